/**
 * A regional worker's view of the tenants it may serve, folded from Orbital messages (pure, no I/O).
 *
 * Per tenant it keeps the highest TenantStateMessage position applied and drops anything at or below it, so
 * redeliveries and re-sends are harmless. Revocations travel on their own lane and may overtake the state
 * message of the same event; they are kept as marks ("revoked at position r") that win over every state older
 * than r and are cleared once a state at or above r (which already reflects the revocation) is applied.
 * A revocation never advances the state position: that would drop the state messages in between.
 */
import {
  DEFAULT_MAX_STALENESS_MS,
  EnforcedPolicy,
  KeyLinkView,
  OrbitalDecodeError,
  RevocationCause,
  RevocationMessage,
  SystemView,
  TenantStateMessage,
  TenantStatus,
  TenantView,
} from './orbital.messages';

/** Why a tenant the store has heard of has no view here. */
export type TenantAbsence = 'unknown-tenant' | 'tenant-offboarded' | 'region-not-allowed';

/** A tenant's served view, with lookups that cannot hit Object.prototype (`constructor`, `__proto__`). */
export interface ServedTenant {
  readonly view: TenantView;
  readonly status: TenantStatus;
  readonly allowedRegions: readonly string[] | null;
  readonly maxStalenessMs: number;
  readonly systems: ReadonlyMap<string, SystemView>;
  readonly keyLinks: ReadonlyMap<string, KeyLinkView>;
}

export interface TenantEntry {
  readonly tenantId: string;
  /** Highest TenantStateMessage position applied; -1 before any. */
  statePosition: bigint;
  /** Undefined when the tenant is not served by this region (see `absence`). */
  served: ServedTenant | undefined;
  absence: TenantAbsence;
  /** Tenant-wide revocation not yet reflected by a state message; -1 when none. */
  tenantRevokedAt: bigint;
  tenantRevocationCause: RevocationCause | undefined;
  /** Key-link revocations not yet reflected by a state message. Created on first use. */
  linkRevokedAt: Map<string, bigint> | undefined;
}

/** `stale`: at or below the position already applied, dropped. */
export type StateApplyOutcome = 'applied' | 'stale';
/** `superseded`: a state at or above it was applied already. `duplicate`: the same mark is already held. */
export type RevocationApplyOutcome = 'applied' | 'duplicate' | 'superseded';

const NONE = -1n;
const STATUSES: ReadonlySet<string> = new Set(['active', 'suspended', 'offboarded']);

export class TenantViewStore {
  private readonly tenants = new Map<string, TenantEntry>();
  private servedCount = 0;
  private caughtUp = false;
  /** Per `policyId NUL version`: the served tenants whose view was compiled from it. */
  private readonly policyTenants = new Map<string, EnforcedPolicy>();
  private policySetChanges = 0;

  constructor(readonly region: string) {}

  /** True once the worker has read the state topic up to where it ended at start (set by the worker). */
  get ready(): boolean {
    return this.caughtUp;
  }

  markReady(): void {
    this.caughtUp = true;
  }

  get(tenantId: string): TenantEntry | undefined {
    return this.tenants.get(tenantId);
  }

  /** Tenants this region serves now. */
  get servedTenants(): number {
    return this.servedCount;
  }

  /** True when the view lets this region serve the tenant (no geofence, or one that lists the region). */
  serves(view: { readonly allowedRegions: readonly string[] | null }): boolean {
    return view.allowedRegions === null || view.allowedRegions.includes(this.region);
  }

  applyState(message: TenantStateMessage): StateApplyOutcome {
    const position = parsePosition(message.position);
    const entry = this.entry(requireId(message.tenantId, 'tenantId'));
    if (position <= entry.statePosition) return 'stale';
    const view = message.removed ? message.view : checkView(message.view);
    const served = !message.removed && this.serves(view) ? compile(view) : undefined;
    if (served && !entry.served) this.servedCount++;
    if (!served && entry.served) this.servedCount--;
    // Adding before removing: a view naming the same versions again changes no count to zero and back.
    if (served) this.countPolicies(served.view, +1);
    if (entry.served) this.countPolicies(entry.served.view, -1);
    entry.statePosition = position;
    entry.served = served;
    if (!served) entry.absence = absenceOf(view, this);
    // Marks at or below this position are part of the state now; a later restore must be able to win.
    if (entry.tenantRevokedAt <= position) {
      entry.tenantRevokedAt = NONE;
      entry.tenantRevocationCause = undefined;
    }
    if (entry.linkRevokedAt) {
      for (const [keyLinkId, revokedAt] of entry.linkRevokedAt) if (revokedAt <= position) entry.linkRevokedAt.delete(keyLinkId);
    }
    return 'applied';
  }

  /**
   * The policy versions this region enforces now (those its served tenants' views were compiled from), sorted by
   * policy id then version. Linear in the number of distinct versions, not of tenants.
   */
  enforcedPolicies(): EnforcedPolicy[] {
    return [...this.policyTenants.values()]
      .map((p) => ({ ...p }))
      .sort((a, b) => (a.policyId < b.policyId ? -1 : a.policyId > b.policyId ? 1 : a.version - b.version));
  }

  /** Grows each time a policy version starts or stops being enforced here: a cheap "did the set change" test. */
  get policySetRevision(): number {
    return this.policySetChanges;
  }

  private countPolicies(view: TenantView, delta: 1 | -1): void {
    for (const { policyId, version } of view.policies ?? []) {
      const key = `${policyId}\u0000${version}`;
      const held = this.policyTenants.get(key);
      if (held) {
        held.tenants += delta;
        if (held.tenants === 0) {
          this.policyTenants.delete(key);
          this.policySetChanges++;
        }
      } else if (delta > 0) {
        this.policyTenants.set(key, { policyId, version, tenants: 1 });
        this.policySetChanges++;
      }
    }
  }

  applyRevocation(message: RevocationMessage): RevocationApplyOutcome {
    const position = parsePosition(message.position);
    const entry = this.entry(requireId(message.tenantId, 'tenantId'));
    if (position <= entry.statePosition) return 'superseded';
    if (message.keyLinkId === undefined) {
      if (position <= entry.tenantRevokedAt) return 'duplicate';
      entry.tenantRevokedAt = position;
      entry.tenantRevocationCause = message.cause;
      return 'applied';
    }
    const marks = (entry.linkRevokedAt ??= new Map());
    const previous = marks.get(requireId(message.keyLinkId, 'keyLinkId'));
    if (previous !== undefined && position <= previous) return 'duplicate';
    marks.set(message.keyLinkId, position);
    return 'applied';
  }

  private entry(tenantId: string): TenantEntry {
    let entry = this.tenants.get(tenantId);
    if (!entry) {
      entry = { tenantId, statePosition: NONE, served: undefined, absence: 'unknown-tenant', tenantRevokedAt: NONE, tenantRevocationCause: undefined, linkRevokedAt: undefined };
      this.tenants.set(tenantId, entry);
    }
    return entry;
  }
}

/** Positions are decimal strings of the event store's 64-bit global position. */
export function parsePosition(position: unknown): bigint {
  if (typeof position !== 'string' || !/^\d{1,20}$/.test(position)) throw new OrbitalDecodeError(`position must be a decimal string, got ${String(position)}`);
  return BigInt(position);
}

function requireId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new OrbitalDecodeError(`${name} must be a non-empty string`);
  return value;
}

/** The hot path trusts the view's shape, so it is checked once, here. */
function checkView(view: TenantView | undefined): TenantView {
  if (!view || typeof view !== 'object') throw new OrbitalDecodeError('tenant-state message has no view');
  if (!STATUSES.has(view.status)) throw new OrbitalDecodeError(`unknown tenant status ${String(view.status)}`);
  if (view.allowedRegions !== null && !(Array.isArray(view.allowedRegions) && view.allowedRegions.every((r) => typeof r === 'string'))) {
    throw new OrbitalDecodeError('allowedRegions must be null or a list of regions');
  }
  if (!view.systems || typeof view.systems !== 'object' || !view.keyLinks || typeof view.keyLinks !== 'object') {
    throw new OrbitalDecodeError('view must carry systems and keyLinks');
  }
  if (view.policies !== undefined && !(Array.isArray(view.policies) && view.policies.every((p) => typeof p?.policyId === 'string' && Number.isInteger(p.version) && p.version > 0))) {
    throw new OrbitalDecodeError('policies must be a list of { policyId, version }');
  }
  return view;
}

function compile(view: TenantView): ServedTenant {
  const maxStalenessMs = Number.isFinite(view.maxStalenessMs) && view.maxStalenessMs > 0 ? view.maxStalenessMs : DEFAULT_MAX_STALENESS_MS;
  return {
    view,
    status: view.status,
    allowedRegions: view.allowedRegions,
    maxStalenessMs,
    systems: new Map(Object.entries(view.systems)),
    keyLinks: new Map(Object.entries(view.keyLinks)),
  };
}

function absenceOf(view: TenantView | undefined, store: TenantViewStore): TenantAbsence {
  if (view?.status === 'offboarded') return 'tenant-offboarded';
  if (view && Array.isArray(view.allowedRegions) && !store.serves(view)) return 'region-not-allowed';
  return 'unknown-tenant';
}
