import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { auditLeaf, isLeafEvent } from '@cmk/audit';
import { Projection, qi } from '../projection';

/**
 * The leaves of the audit Merkle tree: every event in global order except the checkpoints themselves, numbered
 * 0, 1, 2, … with its leaf (its chain hash, see auditLeaf). The sealer roots and the proofs are computed from
 * this table; a rebuild recomputes the same numbering from the log.
 */
export class AuditLeavesProjection implements Projection {
  readonly name = 'audit-leaves';
  readonly tables = ['audit_leaves'];

  handles(): boolean {
    return true;
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    const leaves = events.filter((e) => isLeafEvent(e.streamName));
    if (leaves.length === 0) return;
    const table = `${qi(schema)}.audit_leaves`;
    const [{ next }] = await tx.query(`SELECT COALESCE(MAX(leaf_index) + 1, 0)::bigint AS next FROM ${table}`);
    const first = BigInt(next);
    await tx.query(
      `INSERT INTO ${table} (leaf_index, position, leaf_hash)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`,
      [
        leaves.map((_e, i) => (first + BigInt(i)).toString()),
        leaves.map((e) => e.position.toString()),
        leaves.map((e) => auditLeaf(e)),
      ],
    );
  }
}
