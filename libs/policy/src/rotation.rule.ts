import type { PolicyInForce } from './key-strength.rule';

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

const DAY_MS = 86_400_000;

/**
 * Rotation findings of one link: the strictest `rotation.maxAgeDays` in force decides (with its warning window);
 * null when the link is within its age or no policy sets one. `now` is passed in: the rule stays pure.
 */
export function rotationStatus(policies: PolicyInForce[], link: { keyLinkId: string; tenantId: string; createdAt: string; keySince?: string }, now: Date): RotationStatus | null {
  let strictest: { max: number; warning: number; policyId: string; version: number } | null = null;
  for (const p of policies) {
    const max = p.document.rotation?.maxAgeDays;
    if (max === undefined) continue;
    if (!strictest || max < strictest.max) strictest = { max, warning: p.document.rotation?.warningDays ?? 0, policyId: p.policyId, version: p.version };
  }
  if (!strictest) return null;
  // The key's age counts from when its current material came into use (a rotation resets it).
  const ageDays = Math.floor((now.getTime() - Date.parse(link.keySince ?? link.createdAt)) / DAY_MS);
  const state = ageDays >= strictest.max ? 'overdue' : ageDays >= strictest.max - strictest.warning ? 'warning' : null;
  if (!state) return null;
  return { keyLinkId: link.keyLinkId, tenantId: link.tenantId, ageDays, maxAgeDays: strictest.max, state, policyId: strictest.policyId, policyVersion: strictest.version };
}
