import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** The URL of the real PostgreSQL the suites run against. Missing means the run is broken, never "skip". */
export function testDatabaseUrl(): string {
  const url = process.env.CMK_TEST_DATABASE_URL;
  if (!url) throw new Error('CMK_TEST_DATABASE_URL is not set: the jest global setup must start PostgreSQL');
  return url;
}

/** A fresh schema name so no test depends on another's leftovers. */
export function freshSchemaName(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function createSchema(schema: string): Promise<void> {
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 1 });
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await pool.end();
  }
}

/**
 * Changes rows behind the event store's back, as an attacker with the database's superuser would: in one
 * transaction, with ordinary triggers (the append-only one) switched off. For tamper-detection tests only.
 */
export async function tamperAsSuperuser(pool: Pool, ...statements: [string, unknown[]?][]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    for (const [sql, params] of statements) await client.query(sql, params);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
