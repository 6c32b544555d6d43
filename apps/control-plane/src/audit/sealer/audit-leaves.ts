import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Hash, leafHash } from '@cmk/audit';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';

export const READ_DATA_SOURCE = Symbol('READ_DATA_SOURCE');

export interface SignedCheckpointRow {
  treeSize: number;
  rootHash: string;
  time: string;
  keyId: string;
  signature: string;
  lastPosition: string;
}

/**
 * Reads of the audit tree's leaves and checkpoints (read models kept by the audit-leaves and audit-checkpoints
 * projections). Leaf hashes are cached in memory in order, so a proof or a seal reads only leaves it has not seen.
 */
@Injectable()
export class AuditLeaves {
  private readonly hashes: Hash[] = [];

  constructor(
    @Inject(READ_DATA_SOURCE) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get s(): string {
    return `"${this.config.readModelSchema}"`;
  }

  async count(): Promise<number> {
    const [{ n }] = await this.db.query(`SELECT COALESCE(MAX(leaf_index) + 1, 0)::bigint AS n FROM ${this.s}.audit_leaves`);
    return Number(n);
  }

  /** RFC 9162 leaf hashes (SHA-256(0x00 || leaf)) of leaves [0, n). */
  async leafHashes(n: number): Promise<readonly Hash[]> {
    if (this.hashes.length < n) {
      const rows: { leaf_hash: Buffer }[] = await this.db.query(
        `SELECT leaf_hash FROM ${this.s}.audit_leaves WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index`,
        [this.hashes.length, n],
      );
      if (rows.length !== n - this.hashes.length) throw new Error(`audit leaves ${this.hashes.length}..${n} are not all there yet`);
      for (const r of rows) this.hashes.push(leafHash(r.leaf_hash));
    }
    return this.hashes.slice(0, n);
  }

  async leafAt(position: string): Promise<{ leafIndex: number; leaf: Buffer } | undefined> {
    const rows: { leaf_index: string; leaf_hash: Buffer }[] = await this.db.query(`SELECT leaf_index, leaf_hash FROM ${this.s}.audit_leaves WHERE position = $1`, [position]);
    return rows[0] ? { leafIndex: Number(rows[0].leaf_index), leaf: rows[0].leaf_hash } : undefined;
  }

  async positionOf(leafIndex: number): Promise<string | undefined> {
    const rows: { position: string }[] = await this.db.query(`SELECT position FROM ${this.s}.audit_leaves WHERE leaf_index = $1`, [leafIndex]);
    return rows[0]?.position;
  }

  async checkpoints(limit = 100, atMostSize?: number): Promise<SignedCheckpointRow[]> {
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT tree_size, root_hash, signed_at, key_id, signature, last_position FROM ${this.s}.audit_checkpoints
       ${atMostSize === undefined ? '' : 'WHERE tree_size <= $2'} ORDER BY tree_size DESC LIMIT $1`,
      atMostSize === undefined ? [limit] : [limit, atMostSize],
    );
    return rows.map(checkpointOfRow);
  }

  async checkpoint(treeSize: number): Promise<SignedCheckpointRow | undefined> {
    return (await this.checkpoints(1, treeSize)).find((c) => c.treeSize === treeSize);
  }
}

/** A row of the audit_checkpoints read model (tree_size, root_hash, signed_at, key_id, signature, last_position). */
export function checkpointOfRow(r: Record<string, unknown>): SignedCheckpointRow {
  return {
    treeSize: Number(r.tree_size),
    rootHash: String(r.root_hash),
    time: new Date(r.signed_at as string).toISOString(),
    keyId: String(r.key_id),
    signature: String(r.signature),
    lastPosition: String(r.last_position),
  };
}
