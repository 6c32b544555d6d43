import type { ApprovalAction } from '@cmk/policy';
import type { Actor } from '../shared/metadata';

/** The commands a four-eyes approval can hold back; each names one control-plane use case. */
export const APPROVABLE_OPERATIONS = ['RestoreKeyLink', 'UnlinkKey', 'OffboardTenant', 'DefinePolicy', 'RevisePolicy', 'AssignPolicy', 'UnassignPolicy'] as const;
export type ApprovableOperation = (typeof APPROVABLE_OPERATIONS)[number];

export interface ApprovalPolicyRef {
  policyId: string;
  version: number;
}

export interface RequestApproval {
  type: 'RequestApproval';
  approvalId: string;
  action: ApprovalAction;
  operation: ApprovableOperation;
  tenantId?: string;
  /** Ids of what the held command acts on (keyLinkId, tenantId, policyId, scope). */
  target: Record<string, string>;
  /** The held command's request body, as validated; it is replayed on quorum, so it must carry no secret. */
  request: Record<string, unknown>;
  initiator: Actor;
  requiredApprovers: number;
  /** Roles allowed to approve: the roles the held command's route allows. */
  approverRoles: string[];
  expiresAt: string;
  setBy: ApprovalPolicyRef[];
  now: Date;
}

export interface ApproveRequest {
  type: 'ApproveRequest';
  approvalId: string;
  approver: Actor;
  now: Date;
}

export interface RejectRequest {
  type: 'RejectRequest';
  approvalId: string;
  by: Actor;
  reason: string;
  now: Date;
}

/** Expiry is a decision on `now`, so the sweep and a late approver reach the same verdict. */
export interface ExpireApproval {
  type: 'ExpireApproval';
  approvalId: string;
  now: Date;
}

export interface RecordApprovalExecuted {
  type: 'RecordApprovalExecuted';
  approvalId: string;
  resultStream: string;
  position: string;
  events: string[];
}

export interface RecordApprovalFailed {
  type: 'RecordApprovalFailed';
  approvalId: string;
  code: string;
  reason: string;
}

export type ApprovalCommand = RequestApproval | ApproveRequest | RejectRequest | ExpireApproval | RecordApprovalExecuted | RecordApprovalFailed;
