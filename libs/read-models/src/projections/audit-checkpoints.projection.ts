import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { Projection, qi } from '../projection';

/** The signed checkpoints, by tree size, as the sealer recorded them. */
export class AuditCheckpointsProjection implements Projection {
  readonly name = 'audit-checkpoints';
  readonly tables = ['audit_checkpoints'];

  handles(eventType: string): boolean {
    return eventType === 'AuditCheckpointSigned';
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    for (const e of events) {
      if (e.type !== 'AuditCheckpointSigned') continue;
      const d = e.data as { treeSize: number; rootHash: string; time: string; keyId: string; signature: string; lastPosition: string };
      await tx.query(
        `INSERT INTO ${qi(schema)}.audit_checkpoints (tree_size, root_hash, signed_at, key_id, signature, last_position, event_position)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tree_size) DO NOTHING`,
        [d.treeSize, d.rootHash, d.time, d.keyId, d.signature, d.lastPosition, e.position.toString()],
      );
    }
  }
}
