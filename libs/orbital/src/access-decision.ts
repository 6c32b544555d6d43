/**
 * The regional worker's local access decision: the hot path of every data-key request (pure, no I/O).
 * It allocates nothing but an allow result; denials are shared frozen constants.
 *
 * Order of checks, first match wins: not-ready, stale-view (fail closed), the tenant (absent, revoked,
 * suspended, offboarded, geofence), the system, the key link (absent or not active, revoked).
 *
 * The system's registered region is deliberately not checked: the geofence (allowedRegions) is the residency
 * rule, and refusing a system outside its home region would break regional failover without protecting
 * anything the geofence does not already protect.
 */
import type { KeyLinkView, SystemView, UsageCount } from './orbital.messages';
import { DEFAULT_MAX_STALENESS_MS, DENIAL_REASONS, type DenialReason } from './orbital.messages';
import type { TenantEntry, TenantViewStore } from './tenant-view.store';

export type AccessOperation = UsageCount['operation'];

export interface AccessRequest {
  tenantId: string;
  systemId: string;
  /** The link a blob names (unwrap); absent: the system's current link (generate, wrap). */
  keyLinkId?: string;
  operation: AccessOperation;
}

// Defined with the Orbital contract (workers report denials by these names); re-exported here, where they are decided.
export { DENIAL_REASONS, type DenialReason };

export interface AccessAllowed {
  readonly allowed: true;
  readonly system: SystemView;
  readonly keyLink: KeyLinkView;
}

export interface AccessDenied {
  readonly allowed: false;
  readonly reason: DenialReason;
}

export type AccessDecision = AccessAllowed | AccessDenied;

const DENIED = Object.freeze(
  Object.fromEntries(DENIAL_REASONS.map((reason) => [reason, Object.freeze({ allowed: false, reason })])),
) as Readonly<Record<DenialReason, AccessDenied>>;

/** The shared denial for a reason (what {@link decideAccess} returns). */
export function denial(reason: DenialReason): AccessDenied {
  return DENIED[reason];
}

/**
 * @param now and @param lastHeartbeatAt on the same monotonic clock, in ms; -Infinity when no heartbeat was
 * heard yet (then every tenant is stale).
 */
export function decideAccess(store: TenantViewStore, region: string, now: number, lastHeartbeatAt: number, request: AccessRequest): AccessDecision {
  if (!store.ready) return DENIED['not-ready'];
  const entry = store.get(request.tenantId);
  const served = entry?.served;
  if (now - lastHeartbeatAt > (served ? served.maxStalenessMs : DEFAULT_MAX_STALENESS_MS)) return DENIED['stale-view'];
  if (!entry || !served) return DENIED[entry ? entry.absence : 'unknown-tenant'];
  if (entry.tenantRevokedAt > entry.statePosition) return DENIED[tenantCutReason(entry)];
  if (served.status === 'suspended') return DENIED['tenant-suspended'];
  if (served.status === 'offboarded') return DENIED['tenant-offboarded'];
  if (served.allowedRegions !== null && !served.allowedRegions.includes(region)) return DENIED['region-not-allowed'];
  const system = served.systems.get(request.systemId);
  if (!system) return DENIED['unknown-system'];
  const keyLinkId = request.keyLinkId ?? system.keyLinkId;
  const keyLink = served.keyLinks.get(keyLinkId);
  if (!keyLink) return DENIED['key-link-not-active'];
  const marked = entry.linkRevokedAt?.get(keyLinkId);
  if (marked !== undefined && marked > entry.statePosition) return DENIED['key-link-revoked'];
  if (keyLink.status === 'revoked' || keyLink.status === 'unlinked') return DENIED['key-link-revoked'];
  if (keyLink.status !== 'active') return DENIED['key-link-not-active'];
  return { allowed: true, system, keyLink };
}

/**
 * True while the view lets this region use the key link at all (tenant and link active, not revoked, inside
 * the geofence). The worker drops cached keys of links for which this turns false. Staleness is not part of
 * it: a stale view refuses requests, but it is no reason to throw keys away.
 */
export function keyLinkUsable(store: TenantViewStore, tenantId: string, keyLinkId: string): boolean {
  const entry = store.get(tenantId);
  const served = entry?.served;
  if (!entry || !served || served.status !== 'active' || entry.tenantRevokedAt > entry.statePosition) return false;
  if (!store.serves(served)) return false;
  const marked = entry.linkRevokedAt?.get(keyLinkId);
  if (marked !== undefined && marked > entry.statePosition) return false;
  return served.keyLinks.get(keyLinkId)?.status === 'active';
}

function tenantCutReason(entry: TenantEntry): DenialReason {
  switch (entry.tenantRevocationCause) {
    case 'TenantOffboarded':
      return 'tenant-offboarded';
    case 'TenantSuspended':
      return 'tenant-suspended';
    default:
      // A link cause without a link id cuts every link of the tenant.
      return 'key-link-revoked';
  }
}
