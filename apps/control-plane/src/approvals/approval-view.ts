import type { Actor } from '@cmk/domain';
import type { KnownApproval } from './approvals-index';

const who = (a: Actor) => ({ subject: a.subject, ...(a.issuer ? { issuer: a.issuer } : {}) });

/** What the API shows of a request: people by subject and issuer only (their roles and scopes stay in the log). */
export function approvalView(a: KnownApproval) {
  return {
    approvalId: a.approvalId,
    status: a.status,
    action: a.action,
    operation: a.operation,
    ...(a.tenantId ? { tenantId: a.tenantId } : {}),
    target: a.target,
    request: a.request,
    initiator: who(a.initiator),
    requiredApprovers: a.requiredApprovers,
    approvals: a.approvers.map(who),
    approverRoles: a.approverRoles,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    setBy: a.setBy,
    ...(a.outcome ? { outcome: a.outcome } : {}),
    ...(a.rejection ? { rejection: { by: who(a.rejection.by), reason: a.rejection.reason } } : {}),
  };
}
export type ApprovalView = ReturnType<typeof approvalView>;
