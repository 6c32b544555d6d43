import type { ApprovalAction } from '@cmk/policy';
import type { DomainEvent } from '../shared/decider';
import type { Actor } from '../shared/metadata';
import type { ApprovableOperation, ApprovalPolicyRef } from './approval.commands';

export type ApprovalRequested = DomainEvent<
  'ApprovalRequested',
  {
    approvalId: string;
    action: ApprovalAction;
    operation: ApprovableOperation;
    tenantId?: string;
    target: Record<string, string>;
    request: Record<string, unknown>;
    initiator: Actor;
    requiredApprovers: number;
    approverRoles: string[];
    expiresAt: string;
    setBy: ApprovalPolicyRef[];
  }
>;
export type ApprovalGranted = DomainEvent<'ApprovalGranted', { approvalId: string; approver: Actor }>;
export type ApprovalRejected = DomainEvent<'ApprovalRejected', { approvalId: string; by: Actor; reason: string }>;
export type ApprovalExpired = DomainEvent<'ApprovalExpired', { approvalId: string; expiresAt: string }>;
/** The held command ran: its events are at `position` in `resultStream`, their metadata names the approvers. */
export type ApprovalExecuted = DomainEvent<'ApprovalExecuted', { approvalId: string; resultStream: string; position: string; events: string[] }>;
/** Quorum was reached but the held command no longer passed admission; `code` is the refusal's code. */
export type ApprovalFailed = DomainEvent<'ApprovalFailed', { approvalId: string; code: string; reason: string }>;

export type ApprovalEvent = ApprovalRequested | ApprovalGranted | ApprovalRejected | ApprovalExpired | ApprovalExecuted | ApprovalFailed;
export const APPROVAL_EVENT_TYPES: readonly ApprovalEvent['type'][] = ['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalExpired', 'ApprovalExecuted', 'ApprovalFailed'];
