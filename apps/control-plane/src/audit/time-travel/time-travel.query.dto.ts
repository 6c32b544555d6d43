import { ApiProperty } from '@nestjs/swagger';
import { Allow } from 'class-validator';

/** Checked in the handler (parseAsOfTime), after the tenant scope: a caller of another tenant learns nothing from a 400. */
export class AsOfQuery {
  @ApiProperty({ description: 'ISO 8601 time, not in the future; the answer is rebuilt by replaying the events recorded at or before it', example: '2026-11-28T12:00:00Z' })
  @Allow()
  at?: string;
}
