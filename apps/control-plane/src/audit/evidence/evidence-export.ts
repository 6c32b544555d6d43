import type { DataSource } from 'typeorm';
import {
  BundledCheckpoint,
  buildEvidenceBundle,
  CheckpointSigner,
  EVIDENCE_CATEGORIES,
  EvidenceBundle,
  publicKeyDocument,
  selectEvidence,
} from '@cmk/audit';
import type { EventStore, RecordedEvent } from '@cmk/event-store';
import { type AuditLeaves, checkpointOfRow } from '../sealer/audit-leaves';
import type { AuditSealer } from '../sealer/audit-sealer';

export interface EvidenceRequest {
  tenantId: string;
  from: Date;
  to: Date;
  asOf: Date[];
  generatedBy: string;
}

/** The export cannot produce a bundle; the controller maps `code` to a problem. */
export class EvidenceExportError extends Error {
  constructor(
    readonly code: 'unknown-tenant' | 'not-sealed-yet',
    message: string,
  ) {
    super(message);
    this.name = 'EvidenceExportError';
  }
}

const PAGE = 2_000;
/** Checkpoints bundled at most: the anchor, the last one before the window and those signed in it, newest kept. */
const MAX_CHECKPOINTS = 1_000;

/**
 * Builds a tenant's evidence bundle from the log itself (not the audit index), proven against the newest signed
 * checkpoint. An event not covered yet is sealed first, so an export never waits for the sealer's timer.
 */
export class EvidenceExport {
  constructor(
    private readonly store: EventStore,
    private readonly leaves: AuditLeaves,
    private readonly sealer: AuditSealer,
    private readonly signer: CheckpointSigner,
    private readonly db: DataSource,
    private readonly readModelSchema: string,
    private readonly regions: readonly string[],
    /** Waits until the read models (audit leaves and checkpoints among them) reflect the head of the log. */
    private readonly caughtUp: () => Promise<unknown>,
  ) {}

  async export(request: EvidenceRequest): Promise<EvidenceBundle> {
    const selection = selectEvidence(await this.candidates(request.to), request.tenantId, request);
    if (!selection.tenantKnown) throw new EvidenceExportError('unknown-tenant', `tenant ${request.tenantId} has no recorded history up to ${request.to.toISOString()}`);
    const positions = selection.events.map((e) => e.position.toString());
    let leafIndex = await this.leafIndexes(positions);
    let checkpoints = await this.checkpoints(request);
    if (!this.covered(positions, leafIndex, checkpoints)) {
      await this.sealer.sealNow();
      // The new checkpoint reaches audit_checkpoints through its projection.
      await this.caughtUp();
      leafIndex = await this.leafIndexes(positions);
      checkpoints = await this.checkpoints(request);
      if (!this.covered(positions, leafIndex, checkpoints)) throw new EvidenceExportError('not-sealed-yet', 'some of the events are not sealed in a signed checkpoint yet; retry shortly');
    }
    const anchor = checkpoints[checkpoints.length - 1];
    return buildEvidenceBundle({
      tenantId: request.tenantId,
      window: request,
      asOf: request.asOf,
      generatedAt: new Date(),
      generatedBy: request.generatedBy,
      selection,
      leafIndex,
      leafHashes: await this.leaves.leafHashes(anchor.treeSize),
      checkpoints,
      keys: [publicKeyDocument(this.signer)],
      regions: this.regions,
      signer: this.signer,
    });
  }

  private covered(positions: string[], leafIndex: Map<string, number>, checkpoints: BundledCheckpoint[]): boolean {
    const anchor = checkpoints[checkpoints.length - 1];
    return anchor !== undefined && positions.every((p) => (leafIndex.get(p) ?? Infinity) < anchor.treeSize);
  }

  /** Every event of the evidence categories up to the window end; selection needs all of them (see selectEvidence). */
  private async candidates(until: Date): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    let after = 0n;
    for (;;) {
      const batch = await this.store.readAll({ after, maxCount: PAGE, filter: { categories: [...EVIDENCE_CATEGORIES] }, until });
      all.push(...batch);
      if (batch.length < PAGE) return all;
      after = batch[batch.length - 1].position;
    }
  }

  private async leafIndexes(positions: string[]): Promise<Map<string, number>> {
    const rows: { position: string; leaf_index: string }[] = positions.length
      ? await this.db.query(`SELECT position::text AS position, leaf_index FROM "${this.readModelSchema}".audit_leaves WHERE position = ANY($1::bigint[])`, [positions])
      : [];
    return new Map(rows.map((r) => [r.position, Number(r.leaf_index)]));
  }

  private async checkpoints(window: { from: Date; to: Date }): Promise<BundledCheckpoint[]> {
    const s = `"${this.readModelSchema}".audit_checkpoints`;
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT tree_size, root_hash, signed_at, key_id, signature, last_position FROM ${s}
        WHERE (signed_at >= $1 AND signed_at <= $2)
           OR tree_size = (SELECT MAX(tree_size) FROM ${s})
           OR tree_size = (SELECT MAX(tree_size) FROM ${s} WHERE signed_at < $1)
        ORDER BY tree_size DESC LIMIT $3`,
      [window.from.toISOString(), window.to.toISOString(), MAX_CHECKPOINTS],
    );
    return rows.reverse().map(checkpointOfRow);
  }
}
