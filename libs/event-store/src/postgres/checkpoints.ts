import type { CheckpointStore, Position } from '../event-store.port';
import { quoteIdentifier } from './identifiers';
import type { ScopedSql } from './scoped-sql';

/**
 * Anything that runs a parameterised statement: a pg Client or PoolClient, a Pool, or a TypeORM QueryRunner or
 * EntityManager (which return the rows array instead of a result object). Lets a projection move its checkpoint
 * inside the transaction that updates its read model, on its own connection.
 */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Compare-and-set in one statement. Parameters: $1 consumer, $2 expected position or NULL for "no checkpoint
 * stored yet", $3 next position (positions as decimal strings). Returns one row `{ changed: 0 | 1 }`.
 * The insert branch relies on ON CONFLICT DO NOTHING and the update branch on `position = expected` being
 * re-checked after a concurrent update, so of two racing writers exactly one wins.
 */
export function compareAndSetCheckpointSql(schema: string): string {
  const table = `${quoteIdentifier(schema, 'schema')}.checkpoints`;
  return `WITH inserted AS (
  INSERT INTO ${table} AS c (consumer, position, updated_at)
  SELECT $1, $3::bigint, now() WHERE $2::bigint IS NULL
  ON CONFLICT (consumer) DO NOTHING
  RETURNING 1
), updated AS (
  UPDATE ${table} AS c SET position = $3::bigint, updated_at = now()
  WHERE $2::bigint IS NOT NULL AND c.consumer = $1 AND c.position = $2::bigint
  RETURNING 1
)
SELECT ((SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated))::int AS changed`;
}

/** Parameters: $1 consumer. Returns zero or one row `{ position }` (a decimal string). */
export function readCheckpointSql(schema: string): string {
  return `SELECT c.position FROM ${quoteIdentifier(schema, 'schema')}.checkpoints c WHERE c.consumer = $1`;
}

/** {@link compareAndSetCheckpointSql} on the caller's connection, typically inside the caller's transaction. */
export async function casCheckpoint(db: Queryable, schema: string, consumer: string, expected: Position | null, next: Position): Promise<boolean> {
  const rows = rowsOf<{ changed: number }>(await db.query(compareAndSetCheckpointSql(schema), [consumer, expected === null ? null : expected.toString(), next.toString()]));
  return rows[0]?.changed === 1;
}

export async function readCheckpoint(db: Queryable, schema: string, consumer: string): Promise<Position | null> {
  const rows = rowsOf<{ position: string }>(await db.query(readCheckpointSql(schema), [consumer]));
  return rows.length === 0 ? null : BigInt(rows[0].position);
}

function rowsOf<R>(result: unknown): R[] {
  if (Array.isArray(result)) return result as R[];
  return ((result as { rows?: R[] }).rows ?? []) as R[];
}

/** The store's own checkpoint access, run as the application role like every other statement of the adapter. */
export class PostgresCheckpointStore implements CheckpointStore {
  constructor(
    private readonly sql: ScopedSql,
    private readonly schema: string,
  ) {}

  async get(consumer: string): Promise<Position | null> {
    const { rows } = await this.sql.query<{ position: string }>(readCheckpointSql(this.schema), [consumer]);
    return rows.length === 0 ? null : BigInt(rows[0].position);
  }

  async compareAndSet(consumer: string, expected: Position | null, next: Position): Promise<boolean> {
    if (next < 0n) throw new RangeError(`checkpoint position must not be negative, got ${next}`);
    const { rows } = await this.sql.query<{ changed: number }>(compareAndSetCheckpointSql(this.schema), [consumer, expected, next]);
    return rows[0]?.changed === 1;
  }
}
