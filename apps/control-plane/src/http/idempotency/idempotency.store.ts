import type { Pool } from 'pg';

export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export type Claim = { kind: 'claimed' } | { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' } | { kind: 'in-flight' };

/** Keys expire after a day: long enough for client retries, short enough not to grow without bound. */
const TTL_HOURS = 24;

/**
 * Remembers responses per (subject, Idempotency-Key). A claim is one INSERT; the winner runs the command,
 * everyone else either replays, is told the key is still in flight, or that it was used for another body.
 */
export class IdempotencyStore {
  constructor(private readonly pool: Pool, private readonly schema: string) {}

  async migrate(): Promise<void> {
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    await this.pool.query(`CREATE TABLE IF NOT EXISTS "${this.schema}".idempotency_keys (
      owner text NOT NULL, key text NOT NULL, request_hash text NOT NULL, state text NOT NULL,
      response jsonb, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (owner, key))`);
  }

  async claim(owner: string, key: string, requestHash: string): Promise<Claim> {
    const t = `"${this.schema}".idempotency_keys`;
    await this.pool.query(`DELETE FROM ${t} WHERE owner = $1 AND key = $2 AND created_at < now() - interval '${TTL_HOURS} hours'`, [owner, key]);
    const inserted = await this.pool.query(
      `INSERT INTO ${t} (owner, key, request_hash, state) VALUES ($1, $2, $3, 'in-flight') ON CONFLICT DO NOTHING`,
      [owner, key, requestHash],
    );
    if (inserted.rowCount === 1) return { kind: 'claimed' };
    const { rows } = await this.pool.query(`SELECT request_hash, state, response FROM ${t} WHERE owner = $1 AND key = $2`, [owner, key]);
    if (rows.length === 0) return this.claim(owner, key, requestHash);
    if (rows[0].request_hash !== requestHash) return { kind: 'mismatch' };
    if (rows[0].state !== 'done') return { kind: 'in-flight' };
    return { kind: 'replay', response: rows[0].response as StoredResponse };
  }

  async complete(owner: string, key: string, response: StoredResponse): Promise<void> {
    await this.pool.query(`UPDATE "${this.schema}".idempotency_keys SET state = 'done', response = $3 WHERE owner = $1 AND key = $2`, [owner, key, JSON.stringify(response)]);
  }

  /** A failed command releases its key so the client may retry it. */
  async release(owner: string, key: string): Promise<void> {
    await this.pool.query(`DELETE FROM "${this.schema}".idempotency_keys WHERE owner = $1 AND key = $2 AND state = 'in-flight'`, [owner, key]);
  }
}
