import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID, Matches } from 'class-validator';
import type { Response } from 'express';
import { Actor } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import type { UsageLine } from '@cmk/read-models';
import { AnyRole, CurrentActor } from '../../http/auth.decorators';
import { ReadQuery } from '../../shared/list.query.dto';
import { ReadSide } from '../../shared/read-side';

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export class UsageQuery extends ReadQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() systemId?: string;
  @ApiPropertyOptional({ example: '2026-11-01', description: 'first UTC day, inclusive' }) @IsOptional() @Matches(DAY, { message: 'from must be a date YYYY-MM-DD' }) from?: string;
  @ApiPropertyOptional({ example: '2026-11-30', description: 'last UTC day, inclusive' }) @IsOptional() @Matches(DAY, { message: 'to must be a date YYYY-MM-DD' }) to?: string;
  @ApiPropertyOptional({ enum: ['total', 'day'] }) @IsOptional() @IsIn(['total', 'day']) granularity?: 'total' | 'day';
  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'or send Accept: text/csv' }) @IsOptional() @IsIn(['json', 'csv']) format?: 'json' | 'csv';
}

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/usage')
export class QueryUsageController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Operations counted by the regional workers, for billing (JSON or CSV)' })
  @ApiProduces('application/json', 'text/csv')
  async usage(@Query() q: UsageQuery, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    if (q.tenantId) assertTenantAccess(actor, q.tenantId);
    await this.readSide.atLeast(q.minPosition);
    const lines = await this.readSide.queries.usage({ tenantId: q.tenantId, systemId: q.systemId, from: q.from, to: q.to, granularity: q.granularity }, actor.tenantScope);
    const csv = q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/.test(String(res.req.headers.accept ?? '')));
    if (!csv) return { from: q.from ?? null, to: q.to ?? null, granularity: q.granularity ?? 'total', items: lines };
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="cmk-usage.csv"');
    return toCsv(lines, q.granularity === 'day');
  }
}

export function toCsv(lines: UsageLine[], byDay: boolean): string {
  const header = [...(byDay ? ['day'] : []), 'tenant_id', 'system_id', 'operation', 'outcome', 'count'];
  // Ids, operations and outcomes are validated tokens (no commas or quotes), so no quoting is needed.
  const body = lines.map((l) => [...(byDay ? [l.day] : []), l.tenantId, l.systemId, l.operation, l.outcome, String(l.count)].join(','));
  return [header.join(','), ...body].join('\n') + '\n';
}
