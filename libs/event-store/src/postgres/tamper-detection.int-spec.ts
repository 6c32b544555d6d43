/**
 * The hash chain against tampering done the way an attacker with database superuser rights would: directly in the
 * real PostgreSQL, with the append-only trigger switched off (`session_replication_role = replica`). Each test
 * tampers in one way and asserts that walking the live store (verifyChains over eventsInGlobalOrder) names exactly
 * the first bad position and what is wrong there.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { ChainReport, verifyChains } from '@cmk/audit/chain-verifier';
import { AUDIT_METADATA_KEY, auditFieldsOf, chainFields } from '@cmk/audit/hash-chain';
import { freshSchemaName, tamperAsSuperuser, testDatabaseUrl } from '@cmk/testing';
import type { RecordedEvent } from '../event-store.port';
import { eventsInGlobalOrder } from '../read-all-events';
import { dropEventStore } from '../testing/postgres-contract-subject';
import { migrateEventStore } from './migrations';
import { PostgresEventStore } from './postgres-event-store.adapter';

const STREAMS = ['tenant-a', 'tenant-b', 'keylink-c'].map((s) => `${s}${randomUUID().slice(0, 8)}`);
const [A, B, C] = STREAMS;

describe('hash chain against direct tampering in PostgreSQL (real server, superuser)', () => {
  let pool: Pool;
  let schema: string;
  let appRole: string;
  let store: PostgresEventStore;
  let log: RecordedEvent[];

  const table = () => `"${schema}".events`;
  const tamper = (...statements: [string, unknown[]?][]) => tamperAsSuperuser(pool, ...statements);
  const verifyLive = (pageSize = 4): Promise<ChainReport> => verifyChains(eventsInGlobalOrder(store, { pageSize }));
  const event = (stream: string, revision: number) => log.find((e) => e.streamName === stream && e.revision === revision)!;

  beforeEach(async () => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
    schema = freshSchemaName('tamper');
    appRole = `${schema}_app`;
    await migrateEventStore(pool, { schema, appRole });
    store = new PostgresEventStore(pool, { schema, appRole });
    // Interleaved streams, single and multi-event appends, 'any' included: 15 events (A 5, B 6, C 4).
    for (let round = 0; round < 3; round++) {
      await store.append(A, [{ type: 'TenantUpdated', data: { round } }], { expectedRevision: round === 0 ? 'no_stream' : round - 1 });
      await store.append(B, [0, 1].map((k) => ({ type: 'TenantUpdated', data: { round, k }, metadata: { actor: { subject: 'alice', roles: ['admin'] } } })), { expectedRevision: 'any' });
      await store.append(C, [{ type: 'KeyLinked', data: { round } }], { expectedRevision: 'any', commandId: randomUUID() });
    }
    await store.append(A, [{ type: 'TenantUpdated', data: { round: 3 } }, { type: 'TenantUpdated', data: { round: 4 } }], { expectedRevision: 2 });
    await store.append(C, [{ type: 'KeyLinked', data: { round: 3 } }], { expectedRevision: 2 });
    log = await store.readAll();
  });

  afterEach(async () => {
    await store.close();
    await dropEventStore(pool, schema, appRole);
    await pool.end();
  });

  it('an untampered store verifies, page by page', async () => {
    expect(log).toHaveLength(15);
    expect(await verifyLive()).toEqual({ ok: true, eventsRead: 15, eventsVerified: 15, streams: 3 });
    expect(await verifyLive(1000)).toMatchObject({ ok: true, eventsVerified: 15 });
  });

  it("modified: a row's data changed", async () => {
    const target = event(B, 2);
    await tamper([`UPDATE ${table()} SET data = jsonb_set(data, '{k}', '7') WHERE global_position = $1`, [target.position]]);
    expect(await verifyLive()).toMatchObject({ ok: false, kind: 'modified', firstBadPosition: target.position, streamName: B, revision: 2 });
  });

  it("modified: a row's metadata changed, its chain fields left alone", async () => {
    const target = event(B, 3);
    await tamper([`UPDATE ${table()} SET metadata = jsonb_set(metadata, '{actor,subject}', '"mallory"') WHERE global_position = $1`, [target.position]]);
    expect(await verifyLive()).toMatchObject({ ok: false, kind: 'modified', firstBadPosition: target.position, revision: 3 });
  });

  it("a row rewritten with its hash recomputed by the forger: caught where the stream's next event stops linking to it", async () => {
    const target = event(A, 1);
    const forged = { ...target, data: { round: 'forged' } };
    const audit = chainFields(auditFieldsOf(event(A, 0))!, forged);
    await tamper([`UPDATE ${table()} SET data = $2, metadata = $3 WHERE global_position = $1`, [target.position, forged.data, { ...target.metadata, [AUDIT_METADATA_KEY]: audit }]]);
    const report = await verifyLive();
    expect(report).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: event(A, 2).position, revision: 2 });
    expect(report.problem).toContain('or the event before it rewritten together with its hash');
  });

  it('deleted: a row removed from the middle of a stream', async () => {
    await tamper([`DELETE FROM ${table()} WHERE global_position = $1`, [event(C, 1).position]]);
    const report = await verifyLive();
    expect(report).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: event(C, 2).position, streamName: C, revision: 2 });
    expect(report.problem).toBe(`event at position ${event(C, 2).position} (${C}@2) follows a gap: revision 1 is missing (deleted)`);
  });

  it("deleted: a row removed and the stream's later revisions closed up", async () => {
    await tamper(
      [`DELETE FROM ${table()} WHERE global_position = $1`, [event(A, 2).position]],
      [`UPDATE ${table()} SET revision = revision - 1 WHERE stream_name = $1 AND revision > 2`, [A]],
    );
    expect(await verifyLive()).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: event(A, 3).position, streamName: A, revision: 2 });
  });

  it('inserted: a forged row slipped into a stream with a correct link to its predecessor, positions and revisions shifted to make room', async () => {
    const before = event(B, 1);
    const forged = { streamName: B, revision: 2, type: 'TenantUpdated', data: { forged: true }, metadata: {} as Record<string, unknown> };
    forged.metadata[AUDIT_METADATA_KEY] = chainFields(auditFieldsOf(before)!, forged);
    const slot = before.position + 1n;
    await tamper(
      [`UPDATE ${table()} SET global_position = global_position + 1000000 WHERE global_position >= $1`, [slot]],
      [`UPDATE ${table()} SET global_position = global_position - 999999 WHERE global_position >= 1000000`],
      [`UPDATE ${table()} SET revision = revision + 1000 WHERE stream_name = $1 AND revision >= 2`, [B]],
      [`UPDATE ${table()} SET revision = revision - 999 WHERE stream_name = $1 AND revision >= 1000`, [B]],
      [
        `INSERT INTO ${table()} (global_position, stream_name, revision, event_id, type, data, metadata) VALUES ($1, $2, 2, $3, $4, $5, $6)`,
        [slot, B, randomUUID(), forged.type, forged.data, forged.metadata],
      ],
    );
    const report = await verifyLive();
    expect(report).toMatchObject({ ok: false, kind: 'inserted', firstBadPosition: slot, streamName: B, revision: 2 });
    expect(report.problem).toContain('both link to the same predecessor: one of them was inserted');
  });

  it('inserted: a forged row appended to a stream with chain fields copied from its last event', async () => {
    const last = event(C, 3);
    await tamper([
      `INSERT INTO ${table()} (stream_name, revision, event_id, type, data, metadata) VALUES ($1, 4, $2, 'KeyUnlinked', '{}', $3)`,
      [C, randomUUID(), { [AUDIT_METADATA_KEY]: auditFieldsOf(last) }],
    ]);
    const forgedAt = (await store.readStream(C, { fromRevision: 4 }))[0].position;
    expect(await verifyLive()).toMatchObject({ ok: false, kind: 'inserted', firstBadPosition: forgedAt, streamName: C, revision: 4 });
  });

  it("reordered: two rows of one stream swap their positions", async () => {
    const [first, second] = [event(A, 1), event(A, 3)];
    await tamper(
      [`UPDATE ${table()} SET global_position = -1 WHERE global_position = $1`, [first.position]],
      [`UPDATE ${table()} SET global_position = $1 WHERE global_position = $2`, [first.position, second.position]],
      [`UPDATE ${table()} SET global_position = $1 WHERE global_position = -1`, [second.position]],
    );
    const report = await verifyLive();
    expect(report).toMatchObject({ ok: false, kind: 'reordered', firstBadPosition: first.position, streamName: A, revision: 3 });
    expect(report.problem).toContain(`is that event: the stream's events were reordered`);
  });

  it('an event inserted around the append function (the app role may INSERT) carries no chain; the next append restarts from genesis', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE "${appRole}"`);
      await client.query(`INSERT INTO ${table()} (stream_name, revision, event_id, type, data) VALUES ($1, 5, $2, 'Sneaked', '{}')`, [A, randomUUID()]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const sneaked = (await store.readStream(A, { fromRevision: 5 }))[0];
    const next = await store.append(A, [{ type: 'TenantUpdated', data: {} }], { expectedRevision: 5 });
    expect(auditFieldsOf(next.events[0])).toMatchObject({ prevHash: '0'.repeat(64) });
    expect(await verifyLive()).toMatchObject({ ok: false, kind: 'missing-chain-fields', firstBadPosition: sneaked.position, revision: 5 });
  });
});
