import { Controller, Get, Inject, NotFoundException, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { CheckpointSigner, EvidenceBuildError } from '@cmk/audit';
import { assertTenantAccess, Role } from '@cmk/auth';
import { type Actor, invalid } from '@cmk/domain';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { ProblemError } from '../../http/problem';
import { CurrentActor, Roles } from '../../http/auth.decorators';
import { ReadSide } from '../../shared/read-side';
import { AuditLeaves, READ_DATA_SOURCE } from '../sealer/audit-leaves';
import { AUDIT_SIGNER, AuditSealer } from '../sealer/audit-sealer';
import { EvidenceExport, EvidenceExportError } from './evidence-export';
import { EvidenceBundleResponse, ExportEvidenceQuery } from './export-evidence.request.dto';

/**
 * Evidence bundles for auditors. A GET, not a POST: exporting changes nothing (at most it seals the log, which the
 * sealer would do anyway), and a POST's Idempotency-Key would store the whole bundle in the replay cache.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class ExportEvidenceController {
  private readonly evidence: EvidenceExport;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    leaves: AuditLeaves,
    sealer: AuditSealer,
    @Inject(AUDIT_SIGNER) signer: CheckpointSigner,
    @Inject(READ_DATA_SOURCE) db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    readSide: ReadSide,
  ) {
    this.evidence = new EvidenceExport(store, leaves, sealer, signer, db, config.readModelSchema, config.regions, () => readSide.caughtUp());
  }

  @Get('evidence')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator)
  @ApiOperation({
    summary: "A tenant's audit evidence bundle for a time window",
    description:
      'Events, RFC 9162 inclusion proofs, signed checkpoints with consistency proofs, the audit public key and a printable HTML report, ' +
      'in a signed manifest. Verify offline with `cmk audit verify --bundle`.',
  })
  @ApiOkResponse({ type: EvidenceBundleResponse })
  async export(@Query() q: ExportEvidenceQuery, @CurrentActor() actor: Actor): Promise<EvidenceBundleResponse> {
    assertTenantAccess(actor, q.tenantId);
    const from = new Date(q.from);
    const to = new Date(q.to);
    if (from.getTime() >= to.getTime()) throw invalid('audit.evidence-window', 'from must be before to', { field: 'from' });
    const asOf = q.asOf === undefined ? [] : [new Date(q.asOf)];
    if (asOf.some((t) => t.getTime() < from.getTime() || t.getTime() > to.getTime())) throw invalid('audit.evidence-as-of', 'asOf must lie within the window', { field: 'asOf' });
    try {
      const bundle = await this.evidence.export({ tenantId: q.tenantId, from, to, asOf, generatedBy: actor.subject });
      return { tenantId: q.tenantId, events: bundle.manifest.counts.events, anchorTreeSize: bundle.manifest.anchorTreeSize, checkpoints: bundle.manifest.counts.checkpoints, files: bundle.files };
    } catch (error) {
      if (error instanceof EvidenceExportError && error.code === 'unknown-tenant') throw new NotFoundException(error.message);
      if ((error instanceof EvidenceExportError && error.code === 'not-sealed-yet') || (error instanceof EvidenceBuildError && error.code !== 'leaf-mismatch')) {
        throw new ProblemError(503, 'audit.not-sealed-yet', 'Audit log not sealed yet', error.message, {}, { 'Retry-After': '2' });
      }
      throw error;
    }
  }
}
