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
