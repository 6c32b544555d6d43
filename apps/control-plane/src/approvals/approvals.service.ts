import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Actor, ApprovalState, approvalDecider, approvalStream, approverRefusal, DomainError, invalidState, notFound, samePerson } from '@cmk/domain';
import { ConcurrencyError } from '@cmk/event-store';
import { canAccessTenant, TenantAccessDenied } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../shared/aggregates';
import { deterministicUuid } from '../shared/deterministic-uuid';
import { ProblemError } from '../http/problem';
import { ApprovalClock } from './approval-clock';
import { approvedCommand } from './approved-commands';
import { ApprovalsIndex, KnownApproval } from './approvals-index';

const RUN_NS = '5d0f3b8e-1c2a-4e6f-8b9d-7a6c5e4d3f21';
const SYSTEM: Actor = { subject: 'system:approvals', roles: [] };

type Open = Extract<ApprovalState, { exists: true }>;
export interface Outcome {
  approval: KnownApproval;
  /** The held command's result, when this call ran it. */
  result?: CommandResult;
}

/** Visible to platform-wide callers, and to tenant-scoped ones for their tenants' requests only. */
export const canSee = (actor: Actor, a: { tenantId?: string }) => actor.tenantScope === undefined || (a.tenantId !== undefined && canAccessTenant(actor, a.tenantId));

/** A refusal the held command met at execution (its code and message), or undefined for a fault worth retrying. */
function refusalOf(error: unknown): { code: string; reason: string } | undefined {
  if (error instanceof DomainError) return { code: error.code, reason: error.message };
  if (error instanceof TenantAccessDenied) return { code: 'tenant.access-denied', reason: error.message };
  if (error instanceof ProblemError && error.status < 500) return { code: error.slug, reason: error.message };
  return undefined;
}

/**
 * Approve, reject, expire, and run a held command once its quorum is reached: through the CommandBus, as the
 * initiator, with initiator and approvers in the metadata of every event it appends. A command that no longer
 * passes admission ends the approval as failed, with the refusal's code; a fault (store down) leaves it approved
 * for the next sweep, which runs it with the same command id, so it never runs twice.
 */
@Injectable()
export class ApprovalsService {
  private readonly running = new Map<string, Promise<Outcome>>();

  constructor(
    private readonly aggregates: Aggregates,
    private readonly commands: CommandBus,
    private readonly index: ApprovalsIndex,
    private readonly clock: ApprovalClock,
  ) {}

  /** The request as it stands; one past its expiry is expired by this read (touched). */
  async get(approvalId: string, actor: Actor): Promise<KnownApproval> {
    const state = await this.visible(approvalId, actor);
    if (state.status === 'pending' && this.clock.now().getTime() >= Date.parse(state.expiresAt)) await this.expire(approvalId, this.systemCtx(approvalId, 'expire'));
    return this.known(approvalId);
  }

  async approve(approvalId: string, ctx: ExecutionContext): Promise<Outcome> {
    await this.visible(approvalId, ctx.actor);
    const now = this.clock.now();
    // Two approvers at once must both count: re-decide on the newer state instead of failing one with 409.
    const recorded = await this.aggregates.execute(approvalStream(approvalId), approvalDecider, { type: 'ApproveRequest', approvalId, approver: ctx.actor, now }, { ...ctx, now }, { retryOnConflict: true });
    if (recorded.events.some((e) => e.type === 'ApprovalExpired'))
      throw invalidState('approval.expired', `approval ${approvalId} expired before this approval; ask again`, { approvalId });
    const approval = await this.known(approvalId);
    return approval.status === 'approved' ? this.runApproved(approval) : { approval };
  }

  async reject(approvalId: string, reason: string, ctx: ExecutionContext): Promise<KnownApproval> {
    await this.visible(approvalId, ctx.actor);
    const now = this.clock.now();
    const recorded = await this.aggregates.execute(approvalStream(approvalId), approvalDecider, { type: 'RejectRequest', approvalId, by: ctx.actor, reason, now }, { ...ctx, now }, { retryOnConflict: true });
    if (recorded.events.some((e) => e.type === 'ApprovalExpired'))
      throw invalidState('approval.expired', `approval ${approvalId} expired before this rejection; nothing is left to reject`, { approvalId });
    return this.known(approvalId);
  }

  /** Pending requests `actor` could approve now: right role and tenant, not theirs, not yet approved by them. */
  async pendingFor(actor: Actor): Promise<KnownApproval[]> {
    const all = await this.touchAll();
    return all.filter((a) => a.status === 'pending' && !approverRefusal(a, actor) && !a.approvers.some((p) => samePerson(p, actor)));
  }

  async visibleTo(actor: Actor): Promise<KnownApproval[]> {
    return (await this.touchAll()).filter((a) => canSee(actor, a));
  }

  /**
   * One sweep: expires what is due and runs every request whose quorum was reached but whose command did not
   * run (the process stopped in between). Returns how many of each.
   */
  async sweep(): Promise<{ expired: number; ran: number }> {
    const now = this.clock.now().getTime();
    let expired = 0;
    let ran = 0;
    for (const a of await this.index.all()) {
      if (a.status === 'pending' && now >= Date.parse(a.expiresAt)) {
        await this.expire(a.approvalId, this.systemCtx(a.approvalId, 'expire'));
        expired++;
      } else if (a.status === 'approved') {
        await this.runApproved(a);
        ran++;
      }
    }
    return { expired, ran };
  }

  private async touchAll(): Promise<KnownApproval[]> {
    const now = this.clock.now().getTime();
    const due = (await this.index.all()).filter((a) => a.status === 'pending' && now >= Date.parse(a.expiresAt));
    for (const a of due) await this.expire(a.approvalId, this.systemCtx(a.approvalId, 'expire'));
    return this.index.all();
  }

  private expire(approvalId: string, ctx: ExecutionContext): Promise<CommandResult> {
    const now = this.clock.now();
    return this.aggregates.execute(approvalStream(approvalId), approvalDecider, { type: 'ExpireApproval', approvalId, now }, { ...ctx, now }, { retryOnConflict: true });
  }

  /** Runs a request with its quorum once per process at a time; the command id makes it once overall. */
  runApproved(approval: KnownApproval): Promise<Outcome> {
    const inFlight = this.running.get(approval.approvalId);
    if (inFlight) return inFlight;
    const run = this.run(approval).finally(() => this.running.delete(approval.approvalId));
    this.running.set(approval.approvalId, run);
    return run;
  }

  private async run(approval: KnownApproval): Promise<Outcome> {
    const { approvalId } = approval;
    const ctx: ExecutionContext = {
      actor: approval.initiator,
      commandId: deterministicUuid(RUN_NS, `${approvalId}:run`),
      correlationId: approval.correlationId ?? approvalId,
      causationId: approvalId,
      now: new Date(),
      approval: { approvalId, initiator: approval.initiator, approvers: approval.approvers },
    };
    const outcomeCtx = this.systemCtx(approvalId, 'outcome', approval.correlationId);
    for (let attempt = 1; ; attempt++) {
      let result: CommandResult;
      try {
        result = await this.commands.execute(approvedCommand(approval.operation, approval.target, approval.request, ctx));
      } catch (error) {
        // Someone else ran it at the same moment: the next attempt finds its events by command id.
        if (error instanceof ConcurrencyError && attempt < 3) continue;
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        await this.aggregates.execute(approvalStream(approvalId), approvalDecider, { type: 'RecordApprovalFailed', approvalId, ...refusal }, outcomeCtx, { retryOnConflict: true });
        return { approval: await this.known(approvalId) };
      }
      await this.aggregates.execute(
        approvalStream(approvalId),
        approvalDecider,
        { type: 'RecordApprovalExecuted', approvalId, resultStream: result.streamName, position: result.position, events: result.events.map((e) => e.type) },
        outcomeCtx,
        { retryOnConflict: true },
      );
      return { approval: await this.known(approvalId), result };
    }
  }

  private async visible(approvalId: string, actor: Actor): Promise<Open> {
    const { state } = await this.aggregates.load(approvalStream(approvalId), approvalDecider);
    if (!state.exists) throw notFound('approval', approvalId);
    if (!canSee(actor, state)) throw new TenantAccessDenied(state.tenantId ?? 'platform-wide');
    return state;
  }

  private async known(approvalId: string): Promise<KnownApproval> {
    const found = (await this.index.all()).find((a) => a.approvalId === approvalId);
    if (!found) throw notFound('approval', approvalId);
    return found;
  }

  private systemCtx(approvalId: string, step: string, correlationId?: string): ExecutionContext {
    return { actor: SYSTEM, commandId: deterministicUuid(RUN_NS, `${approvalId}:${step}`), correlationId: correlationId ?? approvalId, causationId: approvalId, now: new Date() };
  }
}
