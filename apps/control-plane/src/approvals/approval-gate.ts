import { Injectable } from '@nestjs/common';
import { ApprovableOperation, approvalDecider, approvalStream, Decider, DomainEvent } from '@cmk/domain';
import { approvalRequirement } from '@cmk/policy';
import { Aggregates, ExecutionContext } from '../shared/aggregates';
import { deterministicUuid } from '../shared/deterministic-uuid';
import { Facts } from '../shared/facts';
import { APPROVABLE } from './approvable-operations';
import { ApprovalClock } from './approval-clock';
import { ApprovalPending, GatedResult } from './approval-pending';

const APPROVAL_NS = '0b6a7c52-3f1e-4d8a-9c27-5e4f1a2b3c4d';

/** A command that policy may hold for approval, with what is needed to run it now or later. */
export interface Holdable<C, E extends DomainEvent, S> {
  operation: ApprovableOperation;
  /** The tenant the command acts on: its policies decide, and approvers need access to it. */
  tenantId?: string;
  /** Without a tenant: the policy scopes whose policies decide (default: global). */
  scopes?: string[];
  target: Record<string, string>;
  /** The validated request body, replayed on quorum; never a secret. */
  request: Record<string, unknown>;
  stream: string;
  decider: Decider<C, E, S>;
  command: C | ((state: S) => C);
}

/**
 * The one place four-eyes approval intercepts commands. A command whose action needs approvers under the
 * policies in force is admitted dry first (the decider runs against the current state; nothing is appended),
 * so a request that could never pass is refused at once; then only ApprovalRequested is appended. Revocation and
 * the kill switch never come here: stopping must stay easy.
 */
@Injectable()
export class ApprovalGate {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts, private readonly clock: ApprovalClock) {}

  async run<C, E extends DomainEvent, S>(held: Holdable<C, E, S>, ctx: ExecutionContext): Promise<GatedResult> {
    const execute = () => this.aggregates.execute(held.stream, held.decider, held.command, ctx);
    // Set only by the approvals service once the quorum is reached; a request cannot set it.
    if (ctx.approval) return execute();
    const { action, roles } = APPROVABLE[held.operation];
    const policies = held.tenantId ? await this.facts.policiesInForce(held.tenantId) : await this.facts.policiesAssignedTo(held.scopes ?? ['global']);
    const requirement = approvalRequirement(action, policies);
    if (requirement.approvers === 0) return execute();

    const loaded = await this.aggregates.load(held.stream, held.decider);
    // A re-sent command that already ran answers with its result, as it would without approvals.
    if (loaded.events.some((e) => e.metadata.commandId === ctx.commandId)) return execute();
    const command = typeof held.command === 'function' ? (held.command as (s: S) => C)(loaded.state) : held.command;
    // Dry admission: a refusal surfaces now; a command that would change nothing needs nobody's approval.
    if (held.decider.decide(command, loaded.state).length === 0) return execute();

    // Derived from the command id, so a retried request (Idempotency-Key) finds its first approval request.
    const approvalId = deterministicUuid(APPROVAL_NS, ctx.commandId);
    const now = this.clock.now();
    await this.aggregates.execute(
      approvalStream(approvalId),
      approvalDecider,
      {
        type: 'RequestApproval',
        approvalId,
        action,
        operation: held.operation,
        tenantId: held.tenantId,
        target: held.target,
        request: held.request,
        initiator: ctx.actor,
        requiredApprovers: requirement.approvers,
        approverRoles: roles,
        expiresAt: new Date(now.getTime() + requirement.expiryHours * 3_600_000).toISOString(),
        setBy: requirement.setBy,
        now,
      },
      { ...ctx, now },
    );
    const { state } = await this.aggregates.load(approvalStream(approvalId), approvalDecider);
    if (!state.exists) throw new Error(`approval ${approvalId} was appended but cannot be read back`);
    return new ApprovalPending(approvalId, state.requiredApprovers, state.expiresAt);
  }
}
