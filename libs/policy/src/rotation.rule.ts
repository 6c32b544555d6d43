import type { PolicyInForce } from './key-strength.rule';
import type { PolicyDocument } from './policy-document';

export interface RotationStatus {
  keyLinkId: string;
  tenantId: string;
  ageDays: number;
  maxAgeDays: number;
  /** `overdue` past the maximum age, `warning` inside the warning window before it. */
  state: 'overdue' | 'warning';
  policyId: string;
  policyVersion: number;
}

/** The same finding for a link's tenant key (L2): the version it is about and since when that version seals. */
export interface TenantKeyRotationStatus extends RotationStatus {
  tenantKeyVersion: number;
  since: string;
}

/** What the L2 rule needs to know about a link: its current tenant key version and when that version began. */
export interface TenantKeyAge {
  keyLinkId: string;
  tenantId: string;
  tenantKeyVersion: number;
  /** The request that created the version; for version 1, the link's activation. */
  tenantKeySince: string;
}

type AgeLimit = { max: number; warning: number; policyId: string; version: number };
type RotationRule = NonNullable<PolicyDocument['rotation']>;

const DAY_MS = 86_400_000;

/** The strictest maximum age in force for one key level, with its own warning window and the policy that set it. */
function strictestLimit(policies: PolicyInForce[], max: keyof RotationRule, warning: keyof RotationRule): AgeLimit | null {
  let strictest: AgeLimit | null = null;
  for (const p of policies) {
    const days = p.document.rotation?.[max];
    if (days === undefined) continue;
    if (!strictest || days < strictest.max) strictest = { max: days, warning: p.document.rotation?.[warning] ?? 0, policyId: p.policyId, version: p.version };
  }
  return strictest;
}

function judge(limit: AgeLimit, since: string, now: Date): Pick<RotationStatus, 'ageDays' | 'maxAgeDays' | 'state' | 'policyId' | 'policyVersion'> | null {
  const ageDays = Math.floor((now.getTime() - Date.parse(since)) / DAY_MS);
  const state = ageDays >= limit.max ? 'overdue' : ageDays >= limit.max - limit.warning ? 'warning' : null;
  if (!state) return null;
  return { ageDays, maxAgeDays: limit.max, state, policyId: limit.policyId, policyVersion: limit.version };
}

/**
 * Rotation findings of one link: the strictest `rotation.maxAgeDays` in force decides (with its warning window);
 * null when the link is within its age or no policy sets one. `now` is passed in: the rule stays pure.
 */
export function rotationStatus(policies: PolicyInForce[], link: { keyLinkId: string; tenantId: string; createdAt: string; keySince?: string }, now: Date): RotationStatus | null {
  const limit = strictestLimit(policies, 'maxAgeDays', 'warningDays');
  // The key's age counts from when its current material came into use (a rotation resets it).
  const found = limit && judge(limit, link.keySince ?? link.createdAt, now);
  return found ? { keyLinkId: link.keyLinkId, tenantId: link.tenantId, ...found } : null;
}

/**
 * The L2 finding of one link: the strictest `rotation.tenantKeyMaxAgeDays` in force decides, with its own
 * `tenantKeyWarningDays`. The L1 fields never apply to L2 keys (their lifetimes are set independently: an L2
 * rotation is cheap and local, an L1 rotation happens at the customer's provider).
 */
export function tenantKeyRotationStatus(policies: PolicyInForce[], link: TenantKeyAge, now: Date): TenantKeyRotationStatus | null {
  const limit = strictestLimit(policies, 'tenantKeyMaxAgeDays', 'tenantKeyWarningDays');
  const found = limit && judge(limit, link.tenantKeySince, now);
  return found ? { keyLinkId: link.keyLinkId, tenantId: link.tenantId, tenantKeyVersion: link.tenantKeyVersion, since: link.tenantKeySince, ...found } : null;
}
