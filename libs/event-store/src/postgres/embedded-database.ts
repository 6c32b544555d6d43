import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Pool } from 'pg';
import { lockDataDir } from './data-dir-lock';
import { EMBEDDED_SERVER_WORKER_SOURCE } from './embedded-server.worker-source';

export interface EmbeddedDatabase {
  pool: Pool;
  close(): Promise<void>;
}

const SOCKET_PORT = 5432;

/**
 * PostgreSQL in process (PGlite, persisted to `dataDir`, or `memory://`), reached through PGlite's wire-protocol
 * server so that everything talks to it with the ordinary `pg` driver and the same SQL as production. PGlite and
 * its server run in a worker thread (see embedded-server.worker-source.ts).
 *
 * PGlite is ONE session. The server multiplexes connections at the level of single messages, so two connections
 * would interleave their transactions (and share session state such as the role). Hence the returned pool has
 * exactly one connection and the whole process must share it: TypeORM gets it through `typeormDriverFor`.
 * Waiting for that connection is how the process serialises its database work in this mode.
 *
 * The server listens on a unix socket in a fresh private (0700) directory instead of a TCP port: no other user
 * and no other host can reach this unauthenticated server. It accepts a few connections although the pool uses
 * one, because pg-pool replaces a connection after a network error and the server may not have noticed the old
 * socket closing by the time the new one arrives.
 */
export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const persisted = dataDir !== 'memory://';
  if (persisted) mkdirSync(dataDir, { recursive: true });
  const unlock = persisted ? lockDataDir(resolve(dataDir)) : () => undefined;
  const socketDir = mkdtempSync(join(tmpdir(), 'cmk-pglite-'));
  const worker = new Worker(EMBEDDED_SERVER_WORKER_SOURCE, {
    eval: true,
    workerData: {
      pglite: require.resolve('@electric-sql/pglite'),
      pgliteSocket: require.resolve('@electric-sql/pglite-socket'),
      dataDir: persisted ? resolve(dataDir) : dataDir,
      socketPath: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
      maxConnections: 4,
    },
  });
  const messages = workerMessages(worker);
  try {
    const first = await messages.next();
    if (first.type !== 'ready') throw new Error(`embedded database in ${dataDir} did not start: ${first.message}`);
  } catch (error) {
    await worker.terminate();
    rmSync(socketDir, { recursive: true, force: true });
    unlock();
    throw error;
  }

  const pool = new Pool({
    host: socketDir,
    port: SOCKET_PORT,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    // Keep the one session open: reconnecting buys nothing in process.
    idleTimeoutMillis: 0,
  });
  // An idle connection failing is reported here; the pool drops it and the next checkout reconnects.
  pool.on('error', () => undefined);

  let closing: Promise<void> | undefined;
  const close = async () => {
    try {
      await pool.end();
      worker.postMessage({ type: 'close' });
      const closed = await messages.next();
      if (closed.type === 'closed' && closed.message) throw new Error(`embedded database did not close cleanly: ${closed.message}`);
    } finally {
      await worker.terminate();
      rmSync(socketDir, { recursive: true, force: true });
      unlock();
    }
  };
  return {
    pool,
    close: () => (closing ??= close()),
  };
}

type WorkerMessage = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'closed'; message?: string };

/** The worker's messages in order; a worker that dies turns into a `failed` message instead of hanging. */
function workerMessages(worker: Worker): { next(): Promise<WorkerMessage> } {
  const queue: WorkerMessage[] = [];
  const waiting: ((m: WorkerMessage) => void)[] = [];
  const push = (message: WorkerMessage) => {
    const wake = waiting.shift();
    if (wake) wake(message);
    else queue.push(message);
  };
  worker.on('message', push);
  worker.on('error', (error) => push({ type: 'failed', message: String(error.stack ?? error) }));
  worker.on('exit', (code) => push({ type: 'failed', message: `worker exited with code ${code}` }));
  return {
    next: () => {
      const message = queue.shift();
      return message ? Promise.resolve(message) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
