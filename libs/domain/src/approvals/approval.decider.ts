import { Decider } from '../shared/decider';
import { DomainError, invalid, invalidState, notFound } from '../shared/errors';
import type { Actor } from '../shared/metadata';
import type { ApprovalCommand } from './approval.commands';
import type { ApprovalEvent, ApprovalRequested } from './approval.events';

/** `approved`: quorum reached, the held command not yet run (it runs right after, or on the next sweep). */
export type ApprovalStatus = 'pending' | 'approved' | 'executed' | 'failed' | 'rejected' | 'expired';
export const TERMINAL_APPROVAL_STATUSES: readonly ApprovalStatus[] = ['executed', 'failed', 'rejected', 'expired'];

export type ApprovalState =
  | { exists: false }
  | ({
      exists: true;
      status: ApprovalStatus;
      approvers: Actor[];
      outcome?: { resultStream: string; position: string; events: string[] } | { code: string; reason: string };
      rejection?: { by: Actor; reason: string };
    } & ApprovalRequested['data']);

/** Subjects are unique per issuer only: the same subject from another IdP is another person. */
export const samePerson = (a: Actor, b: Actor): boolean => a.subject === b.subject && (a.issuer ?? '') === (b.issuer ?? '');

// Error details are spread into the problem body at the edge: never name a detail `status` (it is the HTTP status there).

/** Why `actor` may not approve or reject this request (undefined: it may). Pure, shared by the decider and the list. */
export function approverRefusal(state: Extract<ApprovalState, { exists: true }>, actor: Actor): DomainError | undefined {
  if (samePerson(actor, state.initiator))
    return new DomainError('policy', 'approval.self-approval', 'the initiator of a request cannot approve it; four eyes means another person', { approvalId: state.approvalId });
  if (!actor.roles.some((r) => state.approverRoles.includes(r)))
    return new DomainError('policy', 'approval.role-required', `approving this request needs one of the roles ${state.approverRoles.join(', ')}`, {
      approvalId: state.approvalId,
      approverRoles: state.approverRoles,
    });
  // A tenant-scoped approver vouches only for their tenants; a request without a tenant is platform-wide.
  if (actor.tenantScope !== undefined && (state.tenantId === undefined || !actor.tenantScope.includes(state.tenantId)))
    return new DomainError('policy', 'approval.tenant-scope', 'the approver has no access to the tenant this request acts on', { approvalId: state.approvalId });
  return undefined;
}

const person = (a: Actor): Actor => ({ subject: a.subject, roles: [...a.roles], ...(a.tenantScope ? { tenantScope: [...a.tenantScope] } : {}), ...(a.issuer ? { issuer: a.issuer } : {}) });

function requireExisting(state: ApprovalState, approvalId: string) {
  if (!state.exists) throw notFound('approval', approvalId);
  return state;
}

function requireOpen(state: Extract<ApprovalState, { exists: true }>) {
  if (TERMINAL_APPROVAL_STATUSES.includes(state.status))
    throw invalidState('approval.closed', `approval ${state.approvalId} is ${state.status}; nothing can change it any more`, { approvalId: state.approvalId, approvalStatus: state.status });
}

const isDue = (state: Extract<ApprovalState, { exists: true }>, now: Date) => state.status === 'pending' && now.getTime() >= Date.parse(state.expiresAt);
const expired = (state: Extract<ApprovalState, { exists: true }>): ApprovalEvent[] => [{ type: 'ApprovalExpired', data: { approvalId: state.approvalId, expiresAt: state.expiresAt } }];

export const approvalDecider: Decider<ApprovalCommand, ApprovalEvent, ApprovalState> = {
  initialState: { exists: false },

  decide(command, state): ApprovalEvent[] {
    switch (command.type) {
      case 'RequestApproval': {
        if (state.exists) throw invalidState('approval.exists', `approval ${command.approvalId} already exists`, { approvalId: command.approvalId });
        if (!Number.isInteger(command.requiredApprovers) || command.requiredApprovers < 1)
          throw invalid('approval.required-approvers', 'an approval request needs at least one approver', { field: 'requiredApprovers' });
        if (command.approverRoles.length === 0) throw invalid('approval.approver-roles', 'an approval request must name the roles that may approve it', { field: 'approverRoles' });
        if (!(Date.parse(command.expiresAt) > command.now.getTime())) throw invalid('approval.expires-at', 'an approval request must expire in the future', { field: 'expiresAt' });
        const { approvalId, action, operation, tenantId, target, request, initiator, requiredApprovers, approverRoles, expiresAt, setBy } = command;
        return [
          {
            type: 'ApprovalRequested',
            data: { approvalId, action, operation, ...(tenantId !== undefined ? { tenantId } : {}), target, request, initiator: person(initiator), requiredApprovers, approverRoles, expiresAt, setBy },
          },
        ];
      }
      case 'ApproveRequest': {
        const current = requireExisting(state, command.approvalId);
        requireOpen(current);
        if (isDue(current, command.now)) return expired(current);
        const refusal = approverRefusal(current, command.approver);
        if (refusal) throw refusal;
        // The same person approving twice counts once; saying so again changes nothing.
        if (current.approvers.some((a) => samePerson(a, command.approver))) return [];
        if (current.status === 'approved')
          throw invalidState('approval.closed', `approval ${current.approvalId} already has its quorum`, { approvalId: current.approvalId, approvalStatus: current.status });
        return [{ type: 'ApprovalGranted', data: { approvalId: current.approvalId, approver: person(command.approver) } }];
      }
      case 'RejectRequest': {
        const current = requireExisting(state, command.approvalId);
        requireOpen(current);
        if (current.status === 'approved')
          throw invalidState('approval.closed', `approval ${current.approvalId} already has its quorum`, { approvalId: current.approvalId, approvalStatus: current.status });
        if (isDue(current, command.now)) return expired(current);
        if (!command.reason?.trim()) throw invalid('reason.required', 'a reason is required to reject a request', { field: 'reason' });
        // The initiator may withdraw their own request; anyone else must be someone who could have approved it.
        if (!samePerson(command.by, current.initiator)) {
          const refusal = approverRefusal(current, command.by);
          if (refusal) throw refusal;
        }
        return [{ type: 'ApprovalRejected', data: { approvalId: current.approvalId, by: person(command.by), reason: command.reason.trim() } }];
      }
      case 'ExpireApproval': {
        const current = requireExisting(state, command.approvalId);
        return isDue(current, command.now) ? expired(current) : [];
      }
      case 'RecordApprovalExecuted':
      case 'RecordApprovalFailed': {
        const current = requireExisting(state, command.approvalId);
        if (current.status === 'executed' || current.status === 'failed') return [];
        if (current.status !== 'approved')
          throw invalidState('approval.not-approved', `approval ${current.approvalId} is ${current.status}; only a request with its quorum runs`, { approvalId: current.approvalId, approvalStatus: current.status });
        return command.type === 'RecordApprovalExecuted'
          ? [{ type: 'ApprovalExecuted', data: { approvalId: current.approvalId, resultStream: command.resultStream, position: command.position, events: command.events } }]
          : [{ type: 'ApprovalFailed', data: { approvalId: current.approvalId, code: command.code, reason: command.reason } }];
      }
    }
  },

  evolve(state, event): ApprovalState {
    if (event.type === 'ApprovalRequested') return { exists: true, status: 'pending', approvers: [], ...event.data };
    if (!state.exists) return state;
    switch (event.type) {
      case 'ApprovalGranted': {
        const approvers = [...state.approvers, event.data.approver];
        return { ...state, approvers, status: approvers.length >= state.requiredApprovers ? 'approved' : state.status };
      }
      case 'ApprovalRejected':
        return { ...state, status: 'rejected', rejection: { by: event.data.by, reason: event.data.reason } };
      case 'ApprovalExpired':
        return { ...state, status: 'expired' };
      case 'ApprovalExecuted':
        return { ...state, status: 'executed', outcome: { resultStream: event.data.resultStream, position: event.data.position, events: event.data.events } };
      case 'ApprovalFailed':
        return { ...state, status: 'failed', outcome: { code: event.data.code, reason: event.data.reason } };
    }
  },
};

/** The quorum was reached with this decision: the held command is due to run now. */
export const quorumReached = (before: ApprovalState, after: ApprovalState): boolean =>
  before.exists && after.exists && before.status === 'pending' && after.status === 'approved';
