import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsUUID } from 'class-validator';

export class ExportEvidenceQuery {
  @ApiProperty({ description: 'The tenant the evidence is about' }) @IsUUID(undefined, { message: 'tenantId must be a UUID' }) tenantId: string;
  @ApiProperty({ description: 'Window start (ISO 8601): events recorded at or after it', example: '2026-10-01T00:00:00Z' })
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 time' })
  from: string;
  @ApiProperty({ description: 'Window end (ISO 8601): events recorded at or before it; the report shows the state at this time', example: '2026-11-01T00:00:00Z' })
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 time' })
  to: string;
  @ApiPropertyOptional({ description: 'Also show the tenant state (and who could decrypt) at this time, within the window' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO 8601 time' })
  asOf?: string;
}

export class EvidenceBundleResponse {
  @ApiProperty() tenantId: string;
  @ApiProperty({ description: 'Events bundled' }) events: number;
  @ApiProperty({ description: 'Tree size of the signed checkpoint every event is proven against' }) anchorTreeSize: number;
  @ApiProperty({ description: 'Signed checkpoints bundled' }) checkpoints: number;
  @ApiProperty({
    description: 'The bundle: file name -> exact UTF-8 content (manifest.json, events.ndjson, proofs.json, checkpoints.json, report.html, README.md). Write each as is; manifest.json holds their SHA-256.',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  files: Record<string, string>;
}
