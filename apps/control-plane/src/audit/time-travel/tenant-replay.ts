import { Categories, ENFORCEMENT_CAUSES, type EnforcementCause, parseStreamName } from '@cmk/domain';
import type { EventStore, RecordedEvent } from '@cmk/event-store';
import { emptyWorld, foldEvent, RevocationRecord, TENANT_VIEW_CATEGORIES, TenantViewWorld } from '@cmk/orbital';

const PAGE = 5_000;

export interface TenantReplay {
  at: Date;
  world: TenantViewWorld;
  /** Events replayed (every tenant's: policies in force depend on global and jurisdiction scopes). */
  replayed: number;
  /** Global position of the last replayed event (the last at or before `at` in the fold's categories); null: none. */
  position: string | null;
  /** Position of the last event that changed this tenant's view; null when the tenant did not exist yet. */
  tenantPosition: string | null;
  /** The tenant's revoking events up to `at`, oldest first. */
  revocations: RevocationRecord[];
}

/**
 * Time travel by replay: folds every governance event recorded up to `at` with the mesh bridge's own fold, so the
 * world obtained is the one the regional workers were sent at that moment. Reads only the fold's categories, in
 * pages, and keeps one world in memory (never the events). The read models are not consulted: they know the present.
 */
export async function replayTenant(store: EventStore, tenantId: string, at: Date): Promise<TenantReplay> {
  const world = emptyWorld();
  const revocations: RevocationRecord[] = [];
  let after: bigint | undefined;
  let replayed = 0;
  let tenantPosition: bigint | null = null;
  for (;;) {
    const page = await store.readAll({ after, maxCount: PAGE, filter: { categories: [...TENANT_VIEW_CATEGORIES] }, until: at });
    for (const event of page) {
      for (const change of foldEvent(world, event)) if (change.tenantId === tenantId) tenantPosition = change.position;
      const revocation = revocationOf(world, tenantId, event);
      if (revocation) revocations.push(revocation);
    }
    replayed += page.length;
    if (page.length > 0) after = page[page.length - 1].position;
    if (page.length < PAGE) break;
  }
  return { at, world, replayed, position: after === undefined ? null : after.toString(), tenantPosition: tenantPosition?.toString() ?? null, revocations };
}

function revocationOf(world: TenantViewWorld, tenantId: string, event: RecordedEvent): RevocationRecord | undefined {
  if (!ENFORCEMENT_CAUSES.includes(event.type as EnforcementCause)) return undefined;
  const { category, id } = parseStreamName(event.streamName);
  const ofTenant = category === Categories.tenant ? id === tenantId : category === Categories.keyLink && world.keyLinks.get(id)?.tenantId === tenantId;
  if (!ofTenant) return undefined;
  return {
    position: event.position.toString(),
    cause: event.type as EnforcementCause,
    ...(category === Categories.keyLink ? { keyLinkId: id } : {}),
    recordedAt: event.recordedAt.toISOString(),
  };
}
