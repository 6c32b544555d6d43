import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { freshSchemaName, testDatabaseUrl } from '@cmk/testing';
import { describeEventStoreContract } from '../testing/event-store.contract';
import { appendsJson } from './append-batcher';
import { appendCallSql } from './append-function.sql';
import { eventsJsonOf } from './append-rows';
import { casCheckpoint, readCheckpoint } from './checkpoints';
import { migrateEventStore } from './migrations';
import { PostgresEventStore } from './postgres-event-store.adapter';
import { dropEventStore, postgresContractSubject } from '../testing/postgres-contract-subject';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEventStoreContract(
  'PostgreSQL',
  async () => {
    const pool = new Pool({ connectionString: testDatabaseUrl(), max: 10 });
    const schema = freshSchemaName('es');
    const subject = await postgresContractSubject(pool, { schema, appRole: `${schema}_app`, notify: true });
    return {
      ...subject,
      async cleanup() {
        await subject.cleanup();
        await pool.end();
      },
    };
  },
  { lateCommit: true },
);

describe('PostgresEventStore on PostgreSQL', () => {
  const pools: Pool[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const newPool = (max = 5) => {
    const pool = new Pool({ connectionString: testDatabaseUrl(), max });
    pools.push(pool);
    return pool;
  };

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(pools.splice(0).map((p) => p.end()));
  });

  async function migrated(pool: Pool) {
    const schema = freshSchemaName('es');
    const appRole = `${schema}_app`;
    await migrateEventStore(pool, { schema, appRole });
    cleanups.push(() => dropEventStore(newPool(1), schema, appRole));
    return { schema, appRole };
  }

  describe('append-only enforcement', () => {
    it('rejects UPDATE, DELETE and TRUNCATE by trigger, even for a superuser', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(pool, { schema, appRole });
      cleanups.push(() => store.close());
      await store.append(`t-${randomUUID()}`, [{ type: 'Created', data: { a: 1 } }], { expectedRevision: 'no_stream' });

      await expect(pool.query(`UPDATE "${schema}".events SET data = '{"a":2}'`)).rejects.toThrow(/append-only: UPDATE on .*events is not allowed/);
      await expect(pool.query(`DELETE FROM "${schema}".events`)).rejects.toThrow(/append-only: DELETE on .*events is not allowed/);
      await expect(pool.query(`TRUNCATE "${schema}".events`)).rejects.toThrow(/append-only: TRUNCATE on .*events is not allowed/);
      expect((await store.readAll()).map((e) => e.data)).toEqual([{ a: 1 }]);
    });

    it('grants the application role SELECT and INSERT only on events', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const asApp = (sql: string) => pool.query(`SET LOCAL ROLE "${appRole}"; ${sql}`);
      await asApp(`INSERT INTO "${schema}".events (stream_name, revision, event_id, type, data) VALUES ('t-1', 0, '${randomUUID()}', 'Created', '{}')`);
      await asApp(`SELECT count(*) FROM "${schema}".events`);

      await expect(asApp(`UPDATE "${schema}".events SET type = 'Changed'`)).rejects.toThrow(/permission denied/);
      await expect(asApp(`DELETE FROM "${schema}".events`)).rejects.toThrow(/permission denied/);
      await expect(asApp(`TRUNCATE "${schema}".events`)).rejects.toThrow(/permission denied/);
      await expect(asApp(`DELETE FROM "${schema}".checkpoints`)).rejects.toThrow(/permission denied/);
    });

    it('runs its own statements as the application role, without leaving the role on the shared connection', async () => {
      const pool = newPool(1);
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(pool, { schema, appRole });
      cleanups.push(() => store.close());
      await store.append(`t-${randomUUID()}`, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });
      const { rows } = await pool.query('SELECT current_user AS who');
      expect(rows[0].who).not.toBe(appRole);

      await pool.query(`REVOKE SELECT ON "${schema}".events FROM "${appRole}"`);
      await expect(store.readAll()).rejects.toThrow(/permission denied/);
      // The superuser on the same (only) connection is unaffected.
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".events`)).rows[0].n).toBe(1);
    });

    it('stores hostile text in stream names, types and data verbatim', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(pool, { schema, appRole });
      cleanups.push(() => store.close());
      const stream = `t-'); DROP TABLE "${schema}".events; --\\ ünï $1`;
      const data = { text: "'; DELETE FROM x; --", backslash: '\\\'', dollar: '$$ $1 $fn$' };
      await store.append(stream, [{ type: "Type'\\", data }], { expectedRevision: 'no_stream' });
      const [read] = await store.readStream(stream);
      expect(read.streamName).toBe(stream);
      expect(read.type).toBe("Type'\\");
      expect(read.data).toEqual(data);
    });

    it('works without an application role', async () => {
      const pool = newPool();
      const schema = freshSchemaName('es');
      await migrateEventStore(pool, { schema });
      cleanups.push(() => dropEventStore(newPool(1), schema));
      const store = new PostgresEventStore(pool, { schema });
      cleanups.push(() => store.close());
      const stream = `t-${randomUUID()}`;
      await store.append(stream, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });
      expect(await store.readStream(stream)).toHaveLength(1);
    });
  });

  describe('checkpoints in the caller\'s transaction', () => {
    it('moves with the caller\'s commit and not with its rollback', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(pool, { schema, appRole });
      cleanups.push(() => store.close());
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        expect(await casCheckpoint(client, schema, 'projection', null, 10n)).toBe(true);
        await client.query('ROLLBACK');
        expect(await store.checkpoints.get('projection')).toBeNull();

        await client.query('BEGIN');
        expect(await casCheckpoint(client, schema, 'projection', null, 10n)).toBe(true);
        expect(await readCheckpoint(client, schema, 'projection')).toBe(10n);
        await client.query('COMMIT');
        expect(await store.checkpoints.get('projection')).toBe(10n);
        expect(await casCheckpoint(client, schema, 'projection', 9n, 11n)).toBe(false);
        expect(await casCheckpoint(client, schema, 'projection', 10n, 11n)).toBe(true);
        expect(await store.checkpoints.get('projection')).toBe(11n);
      } finally {
        client.release();
      }
    });
  });

  describe('group commit', () => {
    it('fails only the bad append of a concurrent burst; the others of its batch are written', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(pool, { schema, appRole });
      cleanups.push(() => store.close());
      const existing = await store.append(`t-${randomUUID()}`, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });

      const streams = Array.from({ length: 10 }, () => `t-${randomUUID()}`);
      const outcomes = await Promise.allSettled([
        ...streams.slice(0, 5).map((s) => store.append(s, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' })),
        store.append(`t-${randomUUID()}`, [{ id: existing.events[0].id, type: 'Created', data: {} }], { expectedRevision: 'no_stream' }),
        ...streams.slice(5).map((s) => store.append(s, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' })),
      ]);

      expect(outcomes.map((o) => o.status)).toEqual([...Array(5).fill('fulfilled'), 'rejected', ...Array(5).fill('fulfilled')]);
      expect(String((outcomes[5] as PromiseRejectedResult).reason)).toMatch(/events_event_id_key/);
      for (const s of streams) expect(await store.streamRevision(s)).toBe(0);
    });
  });

  describe('wake-ups across processes', () => {
    async function subscriberOnOwnPool(schema: string, appRole: string, notify: boolean) {
      const store = new PostgresEventStore(newPool(), { schema, appRole, notify, pollIntervalMs: 60_000 });
      cleanups.push(() => store.close());
      const received: string[] = [];
      store.subscribeAll(async (batch) => void received.push(...batch.map((e) => e.id)), { after: await store.headPosition() });
      return received;
    }

    /** Appends by calling the function on another pool, as another process would: no in-process signal. */
    async function appendElsewhere(pool: Pool, schema: string, notify: boolean): Promise<string> {
      const id = randomUUID();
      const streamName = `t-${randomUUID()}`;
      const eventsJson = eventsJsonOf(streamName, [{ id, type: 'Created', data: {} }], undefined);
      await pool.query(appendCallSql(schema), [appendsJson([{ streamName, expected: 'no_stream', revision: null, commandId: null, eventsJson }]), notify]);
      return id;
    }

    it('LISTEN/NOTIFY wakes a subscriber of another adapter instance on another pool at once', async () => {
      const writerPool = newPool();
      const { schema, appRole } = await migrated(writerPool);
      const received = await subscriberOnOwnPool(schema, appRole, true);
      await sleep(300); // the subscriber is caught up and waiting; its poll interval is a minute

      const started = Date.now();
      const id = await appendElsewhere(writerPool, schema, true);
      while (!received.includes(id)) {
        if (Date.now() - started > 5_000) throw new Error('not woken by NOTIFY within 5 s');
        await sleep(5);
      }
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('without NOTIFY the same subscriber stays asleep until its poll interval (control)', async () => {
      const writerPool = newPool();
      const { schema, appRole } = await migrated(writerPool);
      const received = await subscriberOnOwnPool(schema, appRole, false);
      await sleep(300);
      const id = await appendElsewhere(writerPool, schema, false);
      await sleep(1_000);
      expect(received).not.toContain(id);
    });

    it('falls back to polling when nothing signals', async () => {
      const pool = newPool();
      const { schema, appRole } = await migrated(pool);
      const store = new PostgresEventStore(newPool(), { schema, appRole, pollIntervalMs: 50 });
      cleanups.push(() => store.close());
      const received: string[] = [];
      store.subscribeAll(async (batch) => void received.push(...batch.map((e) => e.id)));
      await sleep(100);
      const id = await appendElsewhere(pool, schema, false);
      const started = Date.now();
      while (!received.includes(id)) {
        if (Date.now() - started > 5_000) throw new Error('not picked up by polling');
        await sleep(5);
      }
    });
  });

  describe('migrations', () => {
    it('run concurrently from three pools without error, and again idempotently', async () => {
      const schema = freshSchemaName('es');
      const appRole = `${schema}_app`;
      const three = [newPool(2), newPool(2), newPool(2)];
      cleanups.push(() => dropEventStore(newPool(1), schema, appRole));
      await Promise.all(three.map((pool) => migrateEventStore(pool, { schema, appRole })));
      await Promise.all(three.map((pool) => migrateEventStore(pool, { schema, appRole })));

      const store = new PostgresEventStore(three[0], { schema, appRole });
      cleanups.push(() => store.close());
      const stream = `t-${randomUUID()}`;
      await store.append(stream, [{ type: 'Created', data: {} }], { expectedRevision: 'no_stream' });
      expect(await store.streamRevision(stream)).toBe(0);
      const triggers = await three[1].query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = '"${schema}".events'::regclass AND NOT tgisinternal`);
      expect(triggers.rows[0].n).toBe(2);
    });

    it('refuses schema and role names that are not plain identifiers', async () => {
      const pool = newPool(1);
      await expect(migrateEventStore(pool, { schema: 'bad"; DROP TABLE x; --' })).rejects.toThrow(/Invalid event store schema name/);
      await expect(migrateEventStore(pool, { schema: 'ok_schema', appRole: 'bad role' })).rejects.toThrow(/Invalid event store role name/);
    });
  });
});
