import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import type { Actor } from '@cmk/domain';
import { assertTenantAccess, Role } from '@cmk/auth';
import { CurrentActor, Roles } from '../../http/auth.decorators';
import { PageQuery } from '../../shared/list.query.dto';
import { ReadSide } from '../../shared/read-side';

export class AuditEventsQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional({ example: 'keylink-…' }) @IsOptional() @Matches(/^[a-z]+-[A-Za-z0-9-]+$/, { message: 'stream must be a stream name like keylink-<id>' }) stream?: string;
  @ApiPropertyOptional({ example: 'KeyLinkRevoked' }) @IsOptional() @Matches(/^[A-Za-z]{1,100}$/, { message: 'type must be an event type name' }) type?: string;
  @ApiPropertyOptional({ description: 'Subject of the actor' }) @IsOptional() @IsString() @MaxLength(256) actor?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 time' }) from?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 time' }) to?: string;
  @ApiPropertyOptional({ description: 'Only events after this global position (for following the log)' })
  @IsOptional() @Matches(/^\d{1,19}$/, { message: 'afterPosition must be a non-negative integer' }) afterPosition?: string;
  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc' }) @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
}

/** The audit log is the event store; this lists it through the audit index, newest filters first-class. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class QueryAuditEventsController {
  constructor(private readonly readSide: ReadSide) {}

  @Get('events')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator, Role.TenantAdmin)
  async events(@Query() q: AuditEventsQuery, @CurrentActor() actor: Actor) {
    if (q.tenantId) assertTenantAccess(actor, q.tenantId);
    await this.readSide.atLeast(q.minPosition);
    return this.readSide.queries.auditEvents(
      { tenantId: q.tenantId, stream: q.stream, type: q.type, actor: q.actor, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, afterPosition: q.afterPosition },
      { limit: q.limit, cursor: q.cursor, order: q.order },
      actor.tenantScope,
    );
  }
}
