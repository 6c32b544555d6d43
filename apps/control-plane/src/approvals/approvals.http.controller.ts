import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Role } from '@cmk/auth';
import type { Actor } from '@cmk/domain';
import { AnyRole, CommandCtx, CurrentActor, Roles } from '../http/auth.decorators';
import { ProblemError } from '../http/problem';
import { ExecutionContext } from '../shared/aggregates';
import { ReasonRequest } from '../shared/reason.request.dto';
import { parseStreamName } from '@cmk/domain';
import { ApprovalsQuery } from './approvals.request.dto';
import { ApprovalsService } from './approvals.service';
import { approvalView } from './approval-view';

/** Anyone but an auditor may hold an approvable role; the request's own `approverRoles` decide per request. */
const APPROVERS = [Role.KeyAdmin, Role.SecurityOfficer, Role.PlatformOperator, Role.TenantAdmin];

const cursorOf = (offset: number) => Buffer.from(String(offset)).toString('base64url');
function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const n = Number(Buffer.from(cursor, 'base64url').toString());
  if (!Number.isInteger(n) || n < 0) throw new ProblemError(400, 'validation-error', 'Request validation failed', 'cursor is not one this API returned', { errors: [{ field: 'cursor', message: 'invalid cursor' }] });
  return n;
}

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get()
  @AnyRole()
  @ApiOkResponse({ description: 'Newest first. Default: the pending requests the caller may approve (role, tenant, not their own, not yet approved by them).' })
  async list(@Query() q: ApprovalsQuery, @CurrentActor() actor: Actor) {
    const found = q.status === undefined ? await this.approvals.pendingFor(actor) : (await this.approvals.visibleTo(actor)).filter((a) => a.status === q.status);
    const sorted = found.filter((a) => q.tenantId === undefined || a.tenantId === q.tenantId).sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : a.requestedAt > b.requestedAt ? -1 : a.approvalId.localeCompare(b.approvalId)));
    const offset = offsetOf(q.cursor);
    const limit = q.limit ?? 50;
    const page = sorted.slice(offset, offset + limit);
    return { items: page.map(approvalView), nextCursor: offset + limit < sorted.length ? cursorOf(offset + limit) : null };
  }

  @Get(':approvalId')
  @AnyRole()
  async get(@Param('approvalId', new ParseUUIDPipe()) approvalId: string, @CurrentActor() actor: Actor) {
    return approvalView(await this.approvals.get(approvalId, actor));
  }

  @Post(':approvalId/approve')
  @HttpCode(200)
  @Roles(...APPROVERS)
  @ApiOkResponse({ description: 'status pending (more approvals needed), executed (with the command result) or failed (with the refusal)' })
  async approve(@Param('approvalId', new ParseUUIDPipe()) approvalId: string, @CommandCtx() ctx: ExecutionContext) {
    const { approval, result } = await this.approvals.approve(approvalId, ctx);
    return {
      ...approvalView(approval),
      ...(result ? { result: { id: parseStreamName(result.streamName).id, revision: result.revision, position: result.position, events: result.events.map((e) => e.type) } } : {}),
    };
  }

  @Post(':approvalId/reject')
  @HttpCode(200)
  @Roles(...APPROVERS)
  async reject(@Param('approvalId', new ParseUUIDPipe()) approvalId: string, @Body() body: ReasonRequest, @CommandCtx() ctx: ExecutionContext) {
    return approvalView(await this.approvals.reject(approvalId, body.reason, ctx));
  }
}
