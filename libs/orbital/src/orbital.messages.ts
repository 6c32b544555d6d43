/**
 * The Orbital contract: what the mesh bridge publishes for regional workers and what workers send back.
 * Pure types and codecs, shared by apps/mesh-bridge (producer) and apps/regional-worker (consumer).
 *
 * Every message published by the bridge carries the event store's global position of the event that caused it
 * (JSON field `position`, decimal string, and the MESH_POSITION_HEADER). Consumers keep, per tenant, the highest
 * position applied and drop anything at or below it, so redeliveries and bridge re-sends after a crash are harmless.
 */

/** Topic names. Region topics are per region; every other topic is shared by all regions. */
export const OrbitalTopics = {
  /** Compacted, key = tenantId, value = TenantStateMessage (latest full view per tenant). Bootstrap source. */
  state: 'cmk.tenant-state',
  /** Per region, key = tenantId, value = TenantStateMessage: changes of tenants the region may serve, plus a
   *  final `removed` view when a tenant leaves the region (geofence change, offboarding). */
  regionDeltas: (region: string) => `cmk.region.${region}.deltas`,
  /** Every region consumes it; key = tenantId, value = RevocationMessage. Small, published without batching. */
  revocations: 'cmk.revocations',
  /** Key = worker id, value = AckMessage. Consumed by the bridge and appended to the event store. */
  acks: 'cmk.acks',
  /** Key = worker id, value = UsageMessage. Consumed by the bridge and appended to the event store. */
  usage: 'cmk.usage',
  /** Key = keyLinkId, value = TenantKeyGeneratedMessage or TenantKeyRewrappedMessage. Consumed by the bridge and
   *  recorded in `tenantkey-<keyLinkId>`; the registry comes back to every worker inside the tenant views. */
  tenantKeys: 'cmk.tenant-keys',
  /** One partition, key = 'bridge', value = HeartbeatMessage, published every heartbeat interval. */
  heartbeat: 'cmk.heartbeat',
  /** Key = worker id, value = WorkerStatusMessage: the policy versions each worker enforces, sent periodically and
   *  on change. The bridge records a change (never a repeat) in the worker's stream. */
  workerStatus: 'cmk.worker-status',
  /** Key = worker id, value = AccessDenialsMessage: each worker's refused requests per window, recorded by the
   *  bridge per tenant (allowed requests are the UsageReported aggregates). */
  accessDecisions: 'cmk.access-decisions',
} as const;

export type TenantStatus = 'active' | 'suspended' | 'offboarded';
export type KeyLinkStatus = 'pending' | 'active' | 'revoked' | 'unlinked';

export interface KeyLinkView {
  keyLinkId: string;
  status: KeyLinkStatus;
  providerKind: string;
  mode: 'BYOK' | 'HYOK';
  /** Reference to the L1 key at the customer's root of trust (never key material). */
  keyReference: string;
  algorithm: string;
  keySize: number;
  providerRegion: string;
  /** The L1 key's current version at the provider, as last recorded; absent where the provider has no versions. */
  l1KeyVersion?: string;
  /** The L2 version new data keys are sealed under; absent means 1. Raised by each L2 rotation request. */
  tenantKeyVersion?: number;
  /** Every registered L2 key of the link, oldest first: the current version seals, older ones only open. */
  tenantKeys?: readonly TenantKeyView[];
}

/** One registered L2 key: enough for any worker that reaches the L1 key to unwrap it. Never the key itself. */
export interface TenantKeyView {
  /** 16 bytes, hex: what v2 blobs name. */
  l2Id: string;
  l2Version: number;
  /** Base64 of the L1 provider's ciphertext of the L2 key (AAD: tenant, key link, l2Id). */
  wrappedL2: string;
  /** The L1 version `wrappedL2` was made under, where the provider versions keys. */
  l1KeyVersion?: string;
  /** `kcv:xxxxxx` of the L2 key: an unwrap that gives another key is refused. */
  l2Fingerprint: string;
}

export interface SystemView {
  systemId: string;
  /** Registered systems only; a deregistered system is absent from the view. */
  keyLinkId: string;
  region: string;
}

/** A policy version in force for a tenant: which revision of the document its view was compiled from. */
export interface PolicyRef {
  policyId: string;
  version: number;
}

/** Everything a worker needs to decide a tenant's requests locally. */
export interface TenantView {
  tenantId: string;
  status: TenantStatus;
  jurisdiction: string;
  homeRegion: string;
  /** Regions where the tenant's keys may be unwrapped (the geofence of its effective policies for its
   *  jurisdiction); null = no geofence applies, every region may serve it. */
  allowedRegions: string[] | null;
  /** Fail-closed bound: a worker that has not heard a heartbeat for longer denies this tenant. */
  maxStalenessMs: number;
  systems: Record<string, SystemView>;
  keyLinks: Record<string, KeyLinkView>;
  /** The policy versions the geofence and the fail-closed bound above were compiled from, sorted by id then
   *  version. How a policy revision travels to the regions: every tenant it governs gets a new view naming it.
   *  Absent in views published before policy versions were carried (read as none). */
  policies?: PolicyRef[];
}

export interface TenantStateMessage {
  kind: 'tenant-state';
  /** Global position (decimal string) of the last event folded into this view. */
  position: string;
  tenantId: string;
  /** True when the tenant is no longer served by the receiving region (or anywhere, once offboarded). */
  removed: boolean;
  view: TenantView;
}

export type RevocationCause = 'KeyLinkRevoked' | 'KeyUnlinked' | 'TenantSuspended' | 'TenantOffboarded';

/** The kill switch lane. A worker that applies it zeroises the tenant's unwrapped L2 keys and denies at once. */
export interface RevocationMessage {
  kind: 'revocation';
  position: string;
  cause: RevocationCause;
  tenantId: string;
  /** Absent for tenant-wide causes (suspension, offboarding): then every link of the tenant is cut. */
  keyLinkId?: string;
  /** When the event was recorded in the event store (ISO 8601). */
  recordedAt: string;
}

/** A worker's confirmation that it enforces a revocation. The bridge appends it as RevocationEnforced. */
export interface AckMessage {
  kind: 'revocation-enforced';
  workerId: string;
  region: string;
  tenantId: string;
  keyLinkId?: string;
  cause: RevocationCause;
  /** Position of the revocation enforced. */
  revocationPosition: string;
  /** ISO 8601 time at which the worker started denying. */
  enforcedAt: string;
}

export interface UsageCount {
  tenantId: string;
  systemId: string;
  operation: 'generate-data-key' | 'wrap' | 'unwrap';
  outcome: 'allowed' | 'denied';
  count: number;
}

/** Operation counts of one worker over [windowStart, windowEnd). */
export interface UsageMessage {
  kind: 'usage';
  workerId: string;
  region: string;
  /** Unique per worker and window, so a re-sent report is recognised. */
  reportId: string;
  windowStart: string;
  windowEnd: string;
  counts: UsageCount[];
}

/** A worker's new L2 key for (tenant, key link, version), proposed for registration; the first recorded wins. */
export interface TenantKeyGeneratedMessage {
  kind: 'tenant-key-generated';
  workerId: string;
  region: string;
  tenantId: string;
  keyLinkId: string;
  l2Id: string;
  l2Version: number;
  wrappedL2: string;
  l1KeyVersion?: string;
  l2Fingerprint: string;
}

/** A registered L2 key wrapped again under the link's new L1 version (after an L1 rotation). */
export interface TenantKeyRewrappedMessage {
  kind: 'tenant-key-rewrapped';
  workerId: string;
  region: string;
  tenantId: string;
  keyLinkId: string;
  l2Id: string;
  wrappedL2: string;
  l1KeyVersion: string;
  previousL1KeyVersion?: string;
}

export type TenantKeyMessage = TenantKeyGeneratedMessage | TenantKeyRewrappedMessage;

export interface HeartbeatMessage {
  kind: 'heartbeat';
  /** Increases each time a bridge instance starts; workers ignore heartbeats from an older epoch. */
  epoch: number;
  /** The bridge's checkpoint: everything at or below has been published. */
  position: string;
  sentAt: string;
}

/** The policy versions one worker enforces: in the views of the tenants its region serves, with how many tenants. */
export interface EnforcedPolicy {
  policyId: string;
  version: number;
  tenants: number;
}

/**
 * A worker's report of what it enforces, sent every status interval and soon after the set changes. `stopping`
 * is the last report of a worker shutting down cleanly; a worker that stops reporting without it is silent.
 */
export interface WorkerStatusMessage {
  kind: 'worker-status';
  workerId: string;
  region: string;
  /** When this worker process started (ISO 8601): a new value is a restart. */
  startedAt: string;
  sentAt: string;
  /** How often the worker reports: whoever watches for silence scales its patience by it. */
  intervalMs: number;
  /** Caught up with the state topic (serving). */
  ready: boolean;
  stopping?: boolean;
  /** Sorted by policy id, then version. */
  policies: EnforcedPolicy[];
  servedTenants: number;
}

/** Why a worker's local access decision refused a request (see access-decision.ts for the order of checks). */
export const DENIAL_REASONS = [
  'not-ready',
  'stale-view',
  'unknown-tenant',
  'tenant-suspended',
  'tenant-offboarded',
  'region-not-allowed',
  'unknown-system',
  'key-link-not-active',
  'key-link-revoked',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/**
 * Why a worker refused to authenticate a data-key request: no credentials, an Authorization header that is not
 * `Bearer <token>`, @cmk/auth's TokenRefusalReason for the token (a workload token without expiry, tenant or system
 * is `invalid-claims`), a client certificate refused (mutual TLS), or certificate and token naming different
 * workloads. Listed here so the contract stands on its own.
 */
export const WORKER_AUTH_REFUSALS = [
  'missing-credentials',
  'malformed-authorization-header',
  'certificate-refused',
  'credentials-mismatch',
  'malformed',
  'unknown-issuer',
  'unsupported-algorithm',
  'unknown-key',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'wrong-audience',
  'invalid-claims',
  'issuer-unavailable',
] as const;
export type WorkerAuthRefusal = (typeof WORKER_AUTH_REFUSALS)[number];
/** A worker's denial: its local access decision (DENIAL_REASONS) or an authentication refusal. */
export type AccessDenialReason = DenialReason | WorkerAuthRefusal;

/**
 * One refused request. Tenant, system and subject come from a verified token only: absent for an authentication
 * refusal, since an unverified token's claims are whatever the caller wrote. Never the token itself.
 */
export interface AccessDenialRecord {
  at: string;
  tenantId?: string;
  systemId?: string;
  operation: UsageCount['operation'];
  /** The link the request named (unwrap) or the system's link in the view, when known. */
  keyLinkId?: string;
  reason: AccessDenialReason;
  subject?: string;
}

/** Denials beyond the per-(tenant, reason) detail limit of a window, counted per tenant, system and reason. */
export interface AccessDenialSummary {
  tenantId?: string;
  systemId?: string;
  reason: AccessDenialReason;
  count: number;
}

/**
 * A worker's denials over [windowStart, windowEnd). A busy window is split into several messages (each with its
 * own reportId) so none outgrows the broker's message size.
 */
export interface AccessDenialsMessage {
  kind: 'access-denials';
  workerId: string;
  region: string;
  /** Unique per worker and message, so a re-sent report is recognised. */
  reportId: string;
  windowStart: string;
  windowEnd: string;
  denials: AccessDenialRecord[];
  suppressed: AccessDenialSummary[];
}

export type OrbitalMessage = TenantStateMessage | RevocationMessage | AckMessage | UsageMessage | HeartbeatMessage | TenantKeyMessage | WorkerStatusMessage | AccessDenialsMessage;

export class OrbitalDecodeError extends Error {
  readonly name = 'OrbitalDecodeError';
}

export function encodeMessage(message: OrbitalMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

const KINDS = new Set(['tenant-state', 'revocation', 'revocation-enforced', 'usage', 'heartbeat', 'tenant-key-generated', 'tenant-key-rewrapped', 'worker-status', 'access-denials']);

/** Parses a message and checks its kind (and, where given, the kind expected on that topic). */
export function decodeMessage<K extends OrbitalMessage['kind']>(
  value: Buffer | string,
  expected?: K,
): Extract<OrbitalMessage, { kind: K }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new OrbitalDecodeError('message is not JSON');
  }
  const kind = (parsed as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) throw new OrbitalDecodeError(`unknown message kind ${String(kind)}`);
  if (expected && kind !== expected) throw new OrbitalDecodeError(`expected a ${expected} message, got ${kind}`);
  return parsed as Extract<OrbitalMessage, { kind: K }>;
}

/** Default fail-closed bound when no policy sets one (`failClosed.maxStalenessMs`; defined with the policy model). */
export { DEFAULT_MAX_STALENESS_MS } from '@cmk/policy';
