import { Pool } from 'pg';
import { openEmbeddedDatabase } from './embedded-database';

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; poolSize?: number }
  /** `dataDir` is a directory (created when missing) or `memory://`. */
  | { kind: 'embedded'; dataDir: string };

export interface Database {
  kind: DatabaseConfig['kind'];
  /** In embedded mode the one and only connection of the process: share it, never open a second pool. */
  pool: Pool;
  close(): Promise<void>;
}

const DEFAULT_POOL_SIZE = 10;

/** Opens the database and proves it answers, so a bad URL stops start-up instead of the first request. */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.kind === 'embedded') {
    const embedded = await openEmbeddedDatabase(config.dataDir);
    try {
      await embedded.pool.query('SELECT 1');
    } catch (error) {
      await embedded.close();
      throw error;
    }
    return { kind: 'embedded', pool: embedded.pool, close: () => embedded.close() };
  }
  const pool = new Pool({ connectionString: config.url, max: config.poolSize ?? DEFAULT_POOL_SIZE });
  // Idle connections that fail are reported here and replaced by the pool; queries report their own errors.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new Error(`cannot reach PostgreSQL at ${redact(config.url)}: ${(error as Error).message}`);
  }
  let closed = false;
  return {
    kind: 'postgres',
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
