import { ENFORCEMENT_CAUSES, EnforcementCause } from '@cmk/domain';
import type { RecordedEvent } from '@cmk/event-store';
import { MESH_POSITION_HEADER, type MeshMessage } from '@cmk/mesh';
import {
  emptyWorld,
  encodeMessage,
  foldEvent,
  RevocationMessage,
  TenantStateMessage,
  TenantView,
  TenantViewWorld,
  tenantIdsOf,
  viewOf,
} from '@cmk/orbital';
import type { BridgeTopics } from './topics';

/** A revocation the bridge published, to be recorded as RevocationDispatched. */
export interface Dispatch {
  tenantId: string;
  keyLinkId?: string;
  cause: EnforcementCause;
  position: bigint;
  /** Configured regions the tenant was served in just before the revocation. */
  regions: string[];
}

/** Everything one batch of events makes the bridge publish, per topic, in publishing order. */
export interface BatchPlan {
  revocations: MeshMessage[];
  state: MeshMessage[];
  deltas: Map<string, MeshMessage[]>;
  dispatches: Dispatch[];
  /** Position of the batch's last event. */
  last: bigint;
}

const CAUSES: ReadonlySet<string> = new Set(ENFORCEMENT_CAUSES);

/**
 * The bridge's world and its routing memory: for every tenant, the configured regions its latest view went to.
 * Both are functions of the events folded so far (never of what happened to be published), so a bridge that
 * rebuilds them from the event store up to its checkpoint routes exactly as the one before it did.
 */
export class BridgeFold {
  readonly world: TenantViewWorld = emptyWorld();
  private readonly servedIn = new Map<string, string[]>();

  constructor(
    private readonly regions: readonly string[],
    private readonly topics: BridgeTopics,
  ) {}

  /** Folds events that were published before (up to the checkpoint): nothing to send. */
  replay(events: readonly RecordedEvent[]): void {
    for (const event of events) foldEvent(this.world, event);
  }

  /** After a replay: where each tenant's view went, as the bridge that published it left it. */
  settle(): void {
    for (const tenantId of tenantIdsOf(this.world)) this.servedIn.set(tenantId, servingRegions(viewOf(this.world, tenantId), this.regions));
  }

  /** Folds a batch and says what to publish: revocations per event, then one view per changed tenant. */
  plan(batch: readonly RecordedEvent[]): BatchPlan {
    const revocations: MeshMessage[] = [];
    const dispatches: Dispatch[] = [];
    const changed = new Map<string, { position: bigint; view: TenantView }>();
    for (const event of batch) {
      const revocation = revocationOf(event);
      if (revocation) {
        revocations.push(keyed(revocation.tenantId, revocation.position, revocation));
        const regions = servingRegions(viewOf(this.world, revocation.tenantId), this.regions);
        dispatches.push({ tenantId: revocation.tenantId, keyLinkId: revocation.keyLinkId, cause: revocation.cause, position: event.position, regions });
      }
      for (const change of foldEvent(this.world, event)) changed.set(change.tenantId, { position: change.position, view: change.after });
    }
    const state: MeshMessage[] = [];
    const deltas = new Map<string, MeshMessage[]>();
    for (const [tenantId, { position, view }] of changed) {
      const message = (removed: boolean): MeshMessage =>
        keyed(tenantId, position.toString(), { kind: 'tenant-state', position: position.toString(), tenantId, removed, view } satisfies TenantStateMessage);
      state.push(message(view.status === 'offboarded'));
      const before = this.servedIn.get(tenantId) ?? [];
      const now = servingRegions(view, this.regions);
      for (const region of now) push(deltas, this.topics.regionDeltas.get(region)!, message(false));
      // A region the tenant leaves hears it once more, as removed, so it drops the tenant and its keys.
      for (const region of before) if (!now.includes(region)) push(deltas, this.topics.regionDeltas.get(region)!, message(true));
      this.servedIn.set(tenantId, now);
    }
    return { revocations, state, deltas, dispatches, last: batch[batch.length - 1].position };
  }
}

/** Configured regions that serve a view: none once offboarded, all without a geofence, else those it allows. */
export function servingRegions(view: TenantView | undefined, regions: readonly string[]): string[] {
  if (!view || view.status === 'offboarded') return [];
  const allowed = view.allowedRegions;
  return allowed === null ? [...regions] : regions.filter((r) => allowed.includes(r));
}

/** The revocation lane message for an event that cuts access, or null. */
export function revocationOf(event: RecordedEvent): RevocationMessage | null {
  if (!CAUSES.has(event.type)) return null;
  const data = event.data as { tenantId?: unknown; keyLinkId?: unknown };
  if (typeof data?.tenantId !== 'string') return null;
  return {
    kind: 'revocation',
    position: event.position.toString(),
    cause: event.type as EnforcementCause,
    tenantId: data.tenantId,
    ...(typeof data.keyLinkId === 'string' && (event.type === 'KeyLinkRevoked' || event.type === 'KeyUnlinked') ? { keyLinkId: data.keyLinkId } : {}),
    recordedAt: event.recordedAt.toISOString(),
  };
}

function keyed(tenantId: string, position: string, message: TenantStateMessage | RevocationMessage): MeshMessage {
  return { key: tenantId, value: encodeMessage(message), headers: { [MESH_POSITION_HEADER]: position } };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
