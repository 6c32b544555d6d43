import type { Response } from 'express';
import type { CommandResult } from '../shared/aggregates';
import { CommandResponse, respond } from '../shared/command-response';

/** A command held for four-eyes approval: nothing of it ran; the request waits at `/v1/approvals/<id>`. */
export class ApprovalPending {
  constructor(
    readonly approvalId: string,
    readonly requiredApprovers: number,
    readonly expiresAt: string,
  ) {}
}

export type GatedResult = CommandResult | ApprovalPending;

export interface PendingResponse {
  approvalId: string;
  status: 'pending';
  requiredApprovers: number;
  expiresAt: string;
}

/** 202 Accepted with the request's location for a held command; the command's own response otherwise. */
export function respondOrPending(res: Response, outcome: GatedResult): CommandResponse | PendingResponse {
  if (!(outcome instanceof ApprovalPending)) return respond(res, outcome);
  res.status(202);
  res.setHeader('Location', `/v1/approvals/${outcome.approvalId}`);
  return { approvalId: outcome.approvalId, status: 'pending', requiredApprovers: outcome.requiredApprovers, expiresAt: outcome.expiresAt };
}

export const isPending = (out: CommandResponse | PendingResponse): out is PendingResponse => 'approvalId' in out;
