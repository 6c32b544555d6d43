import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { freshSchemaName } from '@cmk/testing';
import { describeEventStoreContract } from '../testing/event-store.contract';
import { casCheckpoint, readCheckpoint } from './checkpoints';
import { Database, openDatabase } from './database';
import { migrateEventStore } from './migrations';
import { PostgresEventStore } from './postgres-event-store.adapter';
import { dropEventStore, postgresContractSubject } from '../testing/postgres-contract-subject';
import { typeormDriverFor } from './typeorm-driver';

/** One PGlite for the file (starting one takes seconds); every test gets its own schema and role in it. */
let db: Database;
beforeAll(async () => {
  db = await openDatabase({ kind: 'embedded', dataDir: 'memory://' });
});
afterAll(async () => {
  await db?.close();
});

describeEventStoreContract(
  'embedded (PGlite through its socket server, one shared connection)',
  async () => {
    const schema = freshSchemaName('es');
    return postgresContractSubject(db.pool, { schema, appRole: `${schema}_app`, notify: false });
  },
  { lateCommit: true },
);

describe('PostgresEventStore embedded on PGlite', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function migratedStore() {
    const schema = freshSchemaName('es');
    const appRole = `${schema}_app`;
    await migrateEventStore(db.pool, { schema, appRole });
    const store = new PostgresEventStore(db.pool, { schema, appRole });
    cleanups.push(async () => {
      await store.close();
      await dropEventStore(db.pool, schema, appRole);
    });
    return { schema, appRole, store };
  }

  /** Runs SQL on the shared connection and hands it back healthy whatever the outcome. */
  async function onSharedConnection<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await db.pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  it('rejects UPDATE, DELETE and TRUNCATE by trigger, and by permissions for the application role', async () => {
    const { schema, appRole, store } = await migratedStore();
    await store.append(`t-${randomUUID()}`, [{ type: 'Created', data: { a: 1 } }], { expectedRevision: 'no_stream' });
    const table = `"${schema}".events`;

    await onSharedConnection(async (client) => {
      await expect(client.query(`UPDATE ${table} SET data = '{}'`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(client.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only: DELETE/);
      await expect(client.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only: TRUNCATE/);
      const asApp = (sql: string) => client.query(`SET LOCAL ROLE "${appRole}"; ${sql}`);
      await expect(asApp(`UPDATE ${table} SET data = '{}'`)).rejects.toThrow(/permission denied/);
      await expect(asApp(`DELETE FROM ${table}`)).rejects.toThrow(/permission denied/);
      await asApp(`SELECT count(*) FROM ${table}`);
      expect((await client.query('SELECT current_user AS who')).rows[0].who).toBe('postgres');
    });
    expect((await store.readAll()).map((e) => e.data)).toEqual([{ a: 1 }]);
  });

  it('leaves no role behind on the one session the whole process shares', async () => {
    const { appRole, store } = await migratedStore();
    await store.append(`t-${randomUUID()}`, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });
    await store.readAll();
    await store.checkpoints.compareAndSet('p', null, 1n);
    const who = await onSharedConnection(async (client) => (await client.query('SELECT current_user AS who')).rows[0].who);
    expect(who).not.toBe(appRole);
  });

  it('shares the one connection with TypeORM, whose destroy() leaves the pool open', async () => {
    const { schema, store } = await migratedStore();
    const dataSource = new DataSource({ type: 'postgres', driver: typeormDriverFor(db.pool), entities: [] });
    await dataSource.initialize();
    const rows = await dataSource.transaction(async (manager) => manager.query('SELECT 41 + 1 AS answer'));
    expect(rows).toEqual([{ answer: 42 }]);
    // A projection moves its checkpoint inside its own TypeORM transaction, on the same single connection.
    await dataSource.transaction(async (manager) => {
      expect(await casCheckpoint(manager, schema, 'projection', null, 7n)).toBe(true);
      expect(await readCheckpoint(manager, schema, 'projection')).toBe(7n);
    });
    await expect(
      dataSource.transaction(async (manager) => {
        expect(await casCheckpoint(manager, schema, 'projection', 7n, 8n)).toBe(true);
        throw new Error('read model update failed');
      }),
    ).rejects.toThrow('read model update failed');
    await dataSource.destroy();

    const stream = `t-${randomUUID()}`;
    await store.append(stream, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });
    expect(await store.readStream(stream)).toHaveLength(1);
    expect(await store.checkpoints.get('projection')).toBe(7n);
    expect(db.pool.listenerCount('error')).toBe(1);
  });

  it('persists to a data directory across close and reopen, and refuses a second opener meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmk-embedded-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'pgdata');
    const schema = 'cmk_events';
    const appRole = 'cmk_event_writer';
    const stream = `tenant-${randomUUID()}`;

    const first = await openDatabase({ kind: 'embedded', dataDir });
    let written;
    try {
      await migrateEventStore(first.pool, { schema, appRole });
      const store = new PostgresEventStore(first.pool, { schema, appRole });
      written = await store.append(stream, [{ type: 'TenantOnboarded', data: { name: 'ACME' } }, { type: 'TenantRenamed', data: { name: 'ACME EU' } }], {
        expectedRevision: 'no_stream',
        commandId: 'cmd-1',
      });
      expect(await store.checkpoints.compareAndSet('projection', null, written.position)).toBe(true);
      await store.close();
    } finally {
      await first.close();
    }

    const second = await openDatabase({ kind: 'embedded', dataDir });
    await expect(openDatabase({ kind: 'embedded', dataDir })).rejects.toThrow(/is in use by process/);
    try {
      await migrateEventStore(second.pool, { schema, appRole });
      const store = new PostgresEventStore(second.pool, { schema, appRole });
      expect(await store.readStream(stream)).toEqual(written.events);
      expect(await store.checkpoints.get('projection')).toBe(written.position);
      const resent = await store.append(stream, [{ type: 'TenantOnboarded', data: {} }], { expectedRevision: 'no_stream', commandId: 'cmd-1' });
      expect(resent.duplicate).toBe(true);
      const next = await store.append(stream, [{ type: 'TenantSuspended', data: {} }], { expectedRevision: 1 });
      expect(next.position).toBe(written.position + 1n);
      await store.close();
    } finally {
      await second.close();
    }
  });
});
