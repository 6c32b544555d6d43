/**
 * The one place that builds and parses stream names: `category-id`, with no `-` inside the category.
 */
export const Categories = {
  tenant: 'tenant',
  system: 'system',
  keyLink: 'keylink',
  policy: 'policy',
  policyScope: 'policyscope',
  approval: 'approval',
  /** Revocations dispatched by the mesh bridge and enforced by workers, per tenant. */
  enforcement: 'enforcement',
  /** Usage reports, per worker. */
  usage: 'usage',
  /** Scoped kill switches: the intent, the scope and the outcome of each. */
  killSwitch: 'killswitch',
  /** Refused requests (401/403), one stream per UTC day: `denied-<yyyymmdd>`. */
  denied: 'denied',
  /** The L2 (tenant) keys of one key link, as registered by regional workers through the mesh bridge. */
  tenantKey: 'tenantkey',
  /** Signed Merkle checkpoints of the audit log (one stream, written by the sealer). */
  auditCheckpoint: 'auditcheckpoint',
  /** What one regional worker enforces (policy versions, liveness), recorded by the mesh bridge on change. */
  worker: 'worker',
  /** Requests regional workers refused, per UTC day and tenant: `workerdenied-<yyyymmdd>[-<tenantId>]`. */
  workerDenied: 'workerdenied',
} as const;
export type Category = (typeof Categories)[keyof typeof Categories];

export const PROJECT_CATEGORIES: readonly string[] = Object.values(Categories);

export function streamName(category: Category, id: string): string {
  if (!id) throw new Error('stream id must not be empty');
  return `${category}-${id}`;
}

export function parseStreamName(name: string): { category: string; id: string } {
  const i = name.indexOf('-');
  if (i <= 0 || i === name.length - 1) throw new Error(`not a category-id stream name: ${name}`);
  return { category: name.slice(0, i), id: name.slice(i + 1) };
}

export const tenantStream = (id: string) => streamName(Categories.tenant, id);
export const systemStream = (id: string) => streamName(Categories.system, id);
export const keyLinkStream = (id: string) => streamName(Categories.keyLink, id);
export const policyStream = (id: string) => streamName(Categories.policy, id);
/** One four-eyes approval request: requested, granted..., then executed, failed, rejected or expired. */
export const approvalStream = (approvalId: string) => streamName(Categories.approval, approvalId);
/** Policy assignments live per scope: `policyscope-global` or `policyscope-<tenantId>`. */
export const policyScopeStream = (scope: 'global' | string) => streamName(Categories.policyScope, scope);
/** Revocation dispatch and enforcement facts of one tenant (written by the mesh bridge). */
export const enforcementStream = (tenantId: string) => streamName(Categories.enforcement, tenantId);
/** Usage reports of one regional worker (written by the mesh bridge). */
export const usageStream = (workerId: string) => streamName(Categories.usage, workerId);
/** One scoped kill switch: KillSwitchActivated, then KillSwitchCompleted. */
export const killSwitchStream = (killSwitchId: string) => streamName(Categories.killSwitch, killSwitchId);
/** The L2 key registry of one key link: TenantKeyGenerated and TenantKeyRewrapped (written by the mesh bridge). */
export const tenantKeyStream = (keyLinkId: string) => streamName(Categories.tenantKey, keyLinkId);
/** Policy versions enforced by one regional worker, and its liveness (written by the mesh bridge). */
export const workerStream = (workerId: string) => streamName(Categories.worker, workerId);
