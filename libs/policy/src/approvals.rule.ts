import { ApprovalAction, DEFAULT_APPROVAL_EXPIRY_HOURS, DEFAULT_APPROVALS } from './policy-document';
import type { PolicyInForce } from './key-strength.rule';

export interface ApprovalRequirement {
  action: ApprovalAction;
  /** Distinct approvers besides the initiator; 0: the command runs at once. */
  approvers: number;
  expiryHours: number;
  /** The policies that set the figures (none: the defaults apply). */
  setBy: { policyId: string; version: number }[];
}

/**
 * How many approvers an action needs for the policies in force: the largest count any of them sets (the
 * strictest wins), else the default; and the shortest expiry any sets, else a week. Four-eyes approvals
 * (identity issue) consume this; the policy engine only answers.
 */
export function approvalRequirement(action: ApprovalAction, policies: PolicyInForce[]): ApprovalRequirement {
  let approvers: number | undefined;
  let expiryHours: number | undefined;
  const setBy: ApprovalRequirement['setBy'] = [];
  for (const p of policies) {
    const count = p.document.approvals?.required?.[action];
    const hours = p.document.approvals?.expiryHours;
    if (count !== undefined) {
      approvers = Math.max(approvers ?? 0, count);
      setBy.push({ policyId: p.policyId, version: p.version });
    }
    if (hours !== undefined) expiryHours = Math.min(expiryHours ?? Infinity, hours);
  }
  return { action, approvers: approvers ?? DEFAULT_APPROVALS[action], expiryHours: expiryHours ?? DEFAULT_APPROVAL_EXPIRY_HOURS, setBy };
}
