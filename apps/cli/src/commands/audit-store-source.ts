import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Pool } from 'pg';
import { CliError, ExitCode, UsageError } from '../errors';

/** The embedded store's key file, relative to CMK_DATA_DIR (see the control plane's config). */
const STORE_KEY_FILE = 'audit-signing-ed25519.pem';

/** A store opened for `cmk audit verify`: a pool to read from, and the signing key found beside it, if any. */
export interface OpenStore {
  pool: Pool;
  describe: string;
  storeKey?: KeyObject;
  close(): Promise<void>;
}

export async function openDatabaseUrl(url: string): Promise<OpenStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--database-url must be a postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new UsageError('--database-url must be a postgres:// URL');
  if (parsed.password) parsed.password = '***';
  const describe = `PostgreSQL ${parsed.toString()}`;
  const { Pool } = await import('pg');
  // Read-only by the session default as well as by the transaction: nothing this command sends can write.
  const pool = new Pool({ connectionString: url, max: 1, options: '-c default_transaction_read_only=on' });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new CliError(`error: cannot reach ${describe}: ${(error as Error).message}`, ExitCode.unavailable);
  }
  return { pool, describe, close: () => pool.end() };
}

/** Accepts CMK_DATA_DIR (holding pgdata/) or the PGlite directory itself. */
export async function openDataDir(dir: string): Promise<OpenStore> {
  const root = resolve(dir);
  const pgdata = existsSync(join(root, 'pgdata', 'PG_VERSION')) ? join(root, 'pgdata') : existsSync(join(root, 'PG_VERSION')) ? root : undefined;
  if (!pgdata) throw new UsageError(`--data-dir ${dir} holds no embedded store (neither ${join(dir, 'pgdata')} nor ${dir} is a PGlite data directory)`);
  const owner = lockOwner(pgdata);
  if (owner !== undefined) {
    throw new CliError(`error: the embedded store in ${dir} is in use by process ${owner} (the service is running); stop it first, or verify through the service`, ExitCode.unavailable);
  }
  const keyFile = join(pgdata === root ? dirname(root) : root, STORE_KEY_FILE);
  const { openEmbeddedDatabase } = await import('@cmk/event-store/postgres/embedded-database');
  let db: Awaited<ReturnType<typeof openEmbeddedDatabase>>;
  try {
    db = await openEmbeddedDatabase(pgdata);
  } catch (error) {
    throw new CliError(`error: cannot open the embedded store in ${dir}: ${(error as Error).message}`, ExitCode.unavailable);
  }
  return { pool: db.pool, describe: `embedded store ${pgdata}`, storeKey: storeKeyOf(keyFile), close: () => db.close() };
}

/** The pid holding the data directory's lock (see data-dir-lock.ts), if that process is alive. */
function lockOwner(pgdata: string): number | undefined {
  const path = `${pgdata}.lock`;
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** Only the public half of the store's signing key is ever derived; the private key is not kept or printed. */
function storeKeyOf(keyFile: string): KeyObject | undefined {
  if (!existsSync(keyFile)) return undefined;
  try {
    const publicKey = createPublicKey(createPrivateKey(readFileSync(keyFile)));
    return publicKey.asymmetricKeyType === 'ed25519' ? publicKey : undefined;
  } catch {
    return undefined;
  }
}
