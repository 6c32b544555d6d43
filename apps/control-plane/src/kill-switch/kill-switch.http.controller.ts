import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertTenantAccess, Role } from '@cmk/auth';
import { Actor, DomainError, eventMetadata, killSwitchStream } from '@cmk/domain';
import { EVENT_STORE, type EventStore } from '@cmk/event-store';
import type { KillSwitchScope } from '@cmk/read-models';
import { CommandCtx, CurrentActor, Roles } from '../http/auth.decorators';
import { ExecutionContext } from '../shared/aggregates';
import { deterministicUuid } from '../shared/deterministic-uuid';
import { ReadSide } from '../shared/read-side';
import { RevokeKeyLinkCommand } from '../key-links/revoke-key-link/revoke-key-link.handler';
import { blastRadius, scopeProblem } from './blast-radius';
import { KillSwitchDryRunRequest, KillSwitchRequest } from './kill-switch.request.dto';

const FAN_OUT_NS = 'cmk:kill-switch:v1';

/**
 * The red button. The dry run lists what a kill switch over a scope would cut (nothing is written); the kill
 * switch records its intent (KillSwitchActivated: scope, reason, every link in scope), revokes each link with its
 * own command (so each gets its own receipt at /v1/key-links/{id}/revocation), and records the outcome
 * (KillSwitchCompleted). Re-sent with the same Idempotency-Key it resumes and completes: every revocation's
 * command id derives from the kill switch's.
 */
@ApiTags('kill-switch')
@ApiBearerAuth()
@Controller('v1/kill-switch')
export class KillSwitchController {
  constructor(
    private readonly readSide: ReadSide,
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Post('dry-run')
  @HttpCode(200)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator, Role.Auditor)
  @ApiOperation({ summary: 'Blast radius: which tenants, links, systems and regions a kill switch over this scope would cut' })
  async dryRun(@Body() body: KillSwitchDryRunRequest, @CurrentActor() actor: Actor) {
    const scope = this.checkedScope(body.scope);
    return blastRadius(scope, await this.linksInScope(scope, actor));
  }

  @Post()
  @HttpCode(200)
  @Roles(Role.SecurityOfficer)
  @ApiOperation({ summary: 'Revoke every pending or active key link in the scope, each with its own receipt' })
  async activate(@Body() body: KillSwitchRequest, @CommandCtx() ctx: ExecutionContext) {
    const scope = this.checkedScope(body.scope);
    const links = await this.linksInScope(scope, ctx.actor);
    if (body.expectedKeyLinks !== undefined && body.expectedKeyLinks !== links.length) {
      throw new DomainError('invalid-state', 'kill-switch-scope-changed', `the scope now holds ${links.length} key links, not ${body.expectedKeyLinks}; run the dry run again`, {
        expectedKeyLinks: body.expectedKeyLinks,
        keyLinks: links.length,
      });
    }
    const killSwitchId = deterministicUuid(FAN_OUT_NS, ctx.commandId);
    const stream = killSwitchStream(killSwitchId);
    const meta = (commandId: string) => eventMetadata({ ...ctx, commandId, causationId: ctx.commandId });
    await this.store.append(
      stream,
      [{ type: 'KillSwitchActivated', data: { killSwitchId, scope, reason: body.reason, keyLinkIds: links.map((l) => l.keyLinkId) }, metadata: meta(ctx.commandId) }],
      { expectedRevision: 'no_stream', commandId: ctx.commandId },
    );
    const revoked: { keyLinkId: string; tenantId: string; position: string }[] = [];
    const failed: { keyLinkId: string; tenantId: string; error: string }[] = [];
    for (const link of links) {
      const commandId = deterministicUuid(FAN_OUT_NS, `${ctx.commandId}/${link.keyLinkId}`);
      try {
        const result = await this.commands.execute(new RevokeKeyLinkCommand(link.keyLinkId, `kill switch ${killSwitchId}: ${body.reason}`, { ...ctx, commandId, causationId: ctx.commandId }));
        revoked.push({ keyLinkId: link.keyLinkId, tenantId: link.tenantId, position: result.position });
      } catch (error) {
        failed.push({ keyLinkId: link.keyLinkId, tenantId: link.tenantId, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const completedId = deterministicUuid(FAN_OUT_NS, `${ctx.commandId}/completed`);
    const completed = await this.store.append(
      stream,
      [{ type: 'KillSwitchCompleted', data: { killSwitchId, revoked: revoked.map((r) => r.keyLinkId), failed }, metadata: meta(completedId) }],
      { expectedRevision: 0, commandId: completedId },
    );
    return { killSwitchId, scope, reason: body.reason, keyLinks: links.length, revoked, failed, position: completed.position.toString() };
  }

  private checkedScope(scope: KillSwitchScope): KillSwitchScope {
    const problem = scopeProblem(scope);
    if (problem) throw new DomainError('validation', 'kill-switch-scope', problem, { field: 'scope' });
    return Object.fromEntries(Object.entries(scope).filter(([, v]) => v !== undefined)) as KillSwitchScope;
  }

  /** From the read models caught up to the head: the scope must not miss a link linked a moment ago. */
  private async linksInScope(scope: KillSwitchScope, actor: Actor) {
    // A tenant-scoped caller may only cut one of its tenants, named in the scope.
    if (actor.tenantScope !== undefined) assertTenantAccess(actor, scope.tenantId ?? '');
    await this.readSide.caughtUp();
    return this.readSide.queries.linksInScope(scope, actor.tenantScope);
  }
}

