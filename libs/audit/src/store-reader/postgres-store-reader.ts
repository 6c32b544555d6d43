import type { Position } from '@cmk/event-store/event-store.port';
import { CHECKPOINT_CATEGORY } from '../audit-leaf';
import type { ChainRecord } from '../chain-verifier';
import type { StoredCheckpoint } from './store-log-verifier';

/** The stream the sealer records its checkpoints in (libs/domain AUDIT_CHECKPOINT_STREAM; the audit lib imports no domain). */
export const CHECKPOINT_STREAM = `${CHECKPOINT_CATEGORY}-log`;

/**
 * The little of a `pg` Pool this reader uses, declared here so that libs/audit stays free of database drivers
 * (the dependency rule `audit-core-is-pure`): the caller brings the pool, PostgreSQL's or the embedded one.
 */
export interface SnapshotClient {
  query(text: string | { text: string; values: unknown[] }, values?: unknown[]): Promise<{ rows: any[] }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  release(): void;
}
export interface SnapshotPool {
  connect(): Promise<SnapshotClient>;
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export class StoreReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreReadError';
  }
}

/**
 * A consistent, read-only view of one event store schema (the PostgreSQL adapter's tables, on PostgreSQL or PGlite):
 * one REPEATABLE READ READ ONLY transaction, so the checkpoints, the count and every page come from the same
 * snapshot however long the walk takes and whatever the service appends meanwhile. Nothing here can write.
 */
export class PostgresStoreSnapshot {
  private constructor(
    private readonly client: SnapshotClient,
    private readonly table: string,
  ) {}

  static async open(pool: SnapshotPool, schema: string): Promise<PostgresStoreSnapshot> {
    if (!PLAIN_IDENTIFIER.test(schema)) throw new StoreReadError(`schema name "${schema}" is not a plain identifier (letters, digits, _)`);
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const found = await client.query(`SELECT to_regclass($1) AS t`, [`"${schema}".events`]);
      if (found.rows[0].t === null) throw new StoreReadError(`no event store in schema "${schema}" (table "${schema}".events not found)`);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw error;
    }
    return new PostgresStoreSnapshot(client, `"${schema}".events`);
  }

  async count(): Promise<number> {
    const { rows } = await this.client.query(`SELECT count(*)::bigint AS n FROM ${this.table}`);
    return Number(rows[0].n);
  }

  /** Every checkpoint event of the sealer's stream, in revision order, with its fields as recorded. */
  async checkpoints(): Promise<StoredCheckpoint[]> {
    const { rows } = await this.client.query(`SELECT global_position, revision, data FROM ${this.table} WHERE stream_name = $1 ORDER BY revision`, [CHECKPOINT_STREAM]);
    return rows.map((row: { global_position: string; revision: string; data: Record<string, unknown> | null }) => {
      const d = row.data ?? {};
      return {
        treeSize: d.treeSize as number,
        rootHash: d.rootHash as string,
        time: d.time as string,
        keyId: d.keyId as string,
        signature: d.signature as string,
        lastPosition: typeof d.lastPosition === 'string' ? d.lastPosition : undefined,
        eventPosition: BigInt(row.global_position),
        eventRevision: Number(row.revision),
      };
    });
  }

  /**
   * The log in global order, a page at a time. The next page is asked for as soon as a page arrives, so the server
   * reads and sends it while the caller verifies the one in hand.
   */
  async *pages(pageSize = 5_000): AsyncGenerator<ChainRecord[]> {
    if (!Number.isInteger(pageSize) || pageSize <= 0) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
    let next: Promise<ChainRecord[]> | undefined = this.page(0n, pageSize);
    try {
      while (next) {
        const page: ChainRecord[] = await next;
        next = page.length === pageSize ? this.page(page[page.length - 1].position, pageSize) : undefined;
        if (page.length > 0) yield page;
      }
    } finally {
      // A caller that stops early leaves one read in flight; let it finish so the connection is clean to release.
      await next?.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } finally {
      this.client.release();
    }
  }

  /**
   * One page as ONE JSON text built by the server: a single JSON.parse per page instead of the driver's per-row,
   * per-column decoding, and the building happens in the server process, beside the walk. The JSONB columns go
   * through the same jsonb-to-text output and JSON.parse as a column read, so the values are the same.
   */
  private async page(after: Position, limit: number): Promise<ChainRecord[]> {
    const { rows } = await this.client.query({
      text:
        `SELECT coalesce(json_agg(json_build_array(e.global_position::text, e.stream_name, e.revision, e.type, e.data, e.metadata) ORDER BY e.global_position), '[]')::text AS page ` +
        `FROM (SELECT global_position, stream_name, revision, type, data, metadata FROM ${this.table} WHERE global_position > $1 ORDER BY global_position LIMIT $2) e`,
      values: [after.toString(), limit],
    });
    const raw = JSON.parse(rows[0].page as string) as [string, string, number, string, unknown, Record<string, unknown> | null][];
    const out: ChainRecord[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const [position, streamName, revision, type, data, metadata] = raw[i];
      out[i] = { position: BigInt(position), streamName, revision, type, data, metadata: metadata ?? {} };
    }
    return out;
  }
}
