import type { RecordedEvent } from '@cmk/event-store';

export interface RegionEnforcement {
  region: string;
  /** The first worker of the region to confirm, and when it started denying. */
  firstEnforcedAt: string | null;
  /** Milliseconds from the revocation being recorded to that region's first confirmation. */
  afterMs: number | null;
  workers: { workerId: string; enforcedAt: string; afterMs: number }[];
}

/** "Revoked at T; every region enforced by T + x ms": what an auditor takes as evidence of the kill switch. */
export interface RevocationReceipt {
  keyLinkId: string;
  tenantId: string;
  reason: string;
  revokedAt: string;
  revocationPosition: string;
  /** Whether the mesh bridge has published the revocation (the broker acknowledged it). */
  dispatched: boolean;
  /** Regions that could serve the tenant when it was revoked: the confirmations to expect. */
  expectedRegions: string[];
  regions: RegionEnforcement[];
  /** Expected regions with no confirmation yet. */
  pendingRegions: string[];
  /** True once the revocation was dispatched and every expected region confirmed. */
  confirmed: boolean;
  /** When the last expected region confirmed, and how long after the revocation. */
  allEnforcedAt: string | null;
  allEnforcedAfterMs: number | null;
}

interface Revoked {
  keyLinkId: string;
  tenantId: string;
  reason: string;
}
interface Dispatched {
  revocationPosition: string;
  regions: string[];
  keyLinkId?: string;
}
interface Enforced {
  revocationPosition: string;
  keyLinkId?: string;
  workerId: string;
  region: string;
  enforcedAt: string;
}

/**
 * Builds the receipt of the LATEST revocation of a key link from its own stream and its tenant's enforcement
 * stream. Returns null when the link was never revoked or was restored or unlinked since (no revocation in force).
 */
export function revocationReceipt(linkEvents: RecordedEvent[], enforcementEvents: RecordedEvent[]): RevocationReceipt | null {
  const last = [...linkEvents].reverse().find((e) => e.type === 'KeyLinkRevoked' || e.type === 'KeyLinkRestored');
  if (!last || last.type !== 'KeyLinkRevoked') return null;
  const revoked = last.data as Revoked;
  const position = last.position.toString();
  const revokedAtMs = last.recordedAt.getTime();

  const dispatched = enforcementEvents.find(
    (e) => e.type === 'RevocationDispatched' && (e.data as Dispatched).revocationPosition === position,
  );
  const expectedRegions = dispatched ? [...(dispatched.data as Dispatched).regions].sort() : [];
  const byRegion = new Map<string, RegionEnforcement['workers']>();
  for (const event of enforcementEvents) {
    if (event.type !== 'RevocationEnforced') continue;
    const ack = event.data as Enforced;
    if (ack.revocationPosition !== position) continue;
    const workers = byRegion.get(ack.region) ?? [];
    if (!workers.some((w) => w.workerId === ack.workerId)) {
      workers.push({ workerId: ack.workerId, enforcedAt: ack.enforcedAt, afterMs: Date.parse(ack.enforcedAt) - revokedAtMs });
    }
    byRegion.set(ack.region, workers);
  }
  const regionNames = [...new Set([...expectedRegions, ...byRegion.keys()])].sort();
  const regions = regionNames.map((region): RegionEnforcement => {
    const workers = (byRegion.get(region) ?? []).sort((a, b) => a.afterMs - b.afterMs);
    return { region, firstEnforcedAt: workers[0]?.enforcedAt ?? null, afterMs: workers[0]?.afterMs ?? null, workers };
  });
  const pendingRegions = expectedRegions.filter((r) => !byRegion.has(r));
  const confirmed = dispatched !== undefined && pendingRegions.length === 0;
  const slowest = confirmed
    ? regions.filter((r) => expectedRegions.includes(r.region)).reduce<RegionEnforcement | null>((a, r) => (a === null || (r.afterMs ?? 0) > (a.afterMs ?? 0) ? r : a), null)
    : null;
  return {
    keyLinkId: revoked.keyLinkId,
    tenantId: revoked.tenantId,
    reason: revoked.reason,
    revokedAt: last.recordedAt.toISOString(),
    revocationPosition: position,
    dispatched: dispatched !== undefined,
    expectedRegions,
    regions,
    pendingRegions,
    confirmed,
    allEnforcedAt: slowest?.firstEnforcedAt ?? (confirmed ? last.recordedAt.toISOString() : null),
    allEnforcedAfterMs: slowest?.afterMs ?? (confirmed ? 0 : null),
  };
}
