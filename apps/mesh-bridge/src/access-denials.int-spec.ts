/**
 * The access-denial recorder against the real PostgreSQL event store: a report is recorded once however often it
 * is delivered (or by however many bridges), a report half recorded before a crash is completed on redelivery,
 * and a malformed report is dropped without touching the store.
 */
import { Pool } from 'pg';
import type { ReceivedMessage } from '@cmk/mesh';
import { AccessDenialsMessage, encodeMessage } from '@cmk/orbital';
import { migrateEventStore, PostgresEventStore } from '@cmk/event-store';
import { freshSchemaName, testDatabaseUrl } from '../../../test/support/postgres';
import { AccessDenialsRecorder, accessDenialsCommandId } from './access-denials';
import type { FeedbackOutcome } from './feedback';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const received = (m: unknown): ReceivedMessage => ({ topic: 'cmk.access-decisions', partition: 0, offset: '0', key: 'w1', value: Buffer.from(JSON.stringify(m)), headers: {} }) as unknown as ReceivedMessage;

const report = (over: Partial<AccessDenialsMessage> = {}): AccessDenialsMessage => ({
  kind: 'access-denials',
  workerId: 'w1',
  region: 'eu-central-1',
  reportId: 'w1/window-1/0',
  windowStart: '2026-11-29T10:00:00.000Z',
  windowEnd: '2026-11-29T10:01:00.000Z',
  denials: [
    { at: '2026-11-29T10:00:05.000Z', tenantId: 'ta', systemId: 's1', operation: 'unwrap', keyLinkId: 'k1', reason: 'key-link-revoked', subject: 'system:s1' },
    { at: '2026-11-29T10:00:06.000Z', tenantId: 'tb', systemId: 's2', operation: 'wrap', reason: 'unknown-system', subject: 'system:s2' },
    { at: '2026-11-29T10:00:07.000Z', operation: 'unwrap', reason: 'bad-signature' },
  ],
  suppressed: [{ tenantId: 'ta', systemId: 's1', reason: 'key-link-revoked', count: 42 }],
  ...over,
});

let pool: Pool;
let store: PostgresEventStore;
const abort = new AbortController();
const outcomes: FeedbackOutcome[] = [];
const recorder = () =>
  new AccessDenialsRecorder(store, quiet, abort.signal, (actor, occurredAt, commandId) => ({ actor: { subject: actor, roles: ['regional-worker'] }, occurredAt, commandId }), (o) => outcomes.push(o));

beforeAll(async () => {
  pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
  const schema = freshSchemaName('ad');
  await migrateEventStore(pool, { schema });
  store = new PostgresEventStore(pool, { schema, notify: false });
});
afterAll(async () => {
  abort.abort();
  await store?.close?.();
  await pool?.end();
});
beforeEach(() => (outcomes.length = 0));

const denialsIn = async () => (await store.readAll({ filter: { categories: ['workerdenied'] } })).filter((e) => (e.data as { workerId?: string }).workerId === 'w1');

describe('access-denial recorder (real PostgreSQL)', () => {
  it('records a report per tenant stream, once, however often and by however many bridges it is delivered', async () => {
    const a = recorder();
    const b = recorder();
    await a.onReport(received(report()));
    await Promise.all([a.onReport(received(report())), b.onReport(received(report()))]);
    expect(outcomes.filter((o) => o === 'appended')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(6);

    const events = await denialsIn();
    expect(events.map((e) => [e.streamName, e.type])).toEqual([
      ['workerdenied-20261129-ta', 'WorkerAccessDenied'],
      ['workerdenied-20261129-ta', 'WorkerAccessDeniedSuppressed'],
      ['workerdenied-20261129-tb', 'WorkerAccessDenied'],
      ['workerdenied-20261129', 'WorkerAccessDenied'],
    ]);
    expect(events[0].metadata).toMatchObject({ actor: { subject: 'worker:w1' }, occurredAt: '2026-11-29T10:00:05.000Z', commandId: accessDenialsCommandId(report(), 'workerdenied-20261129-ta') });
    expect(events[1].data).toMatchObject({ tenantId: 'ta', count: 42, window: { from: '2026-11-29T10:00:00.000Z', to: '2026-11-29T10:01:00.000Z' } });

    // The next window's report (a new report id) is recorded beside it.
    await a.onReport(received(report({ reportId: 'w1/window-2/0', suppressed: [] })));
    expect(await denialsIn()).toHaveLength(7);
  });

  it('completes a report that was only partly recorded before a crash', async () => {
    const partial = report({ reportId: 'w1/window-3/0' });
    const stream = 'workerdenied-20261129-tb';
    // The bridge recorded tenant tb's part, then died before the others.
    await store.append(stream, [{ type: 'WorkerAccessDenied', data: { ...partial.denials[1], workerId: 'w1', region: 'eu-central-1', reportId: partial.reportId } }], {
      expectedRevision: 'any',
      commandId: accessDenialsCommandId(partial, stream),
    });
    const before = (await denialsIn()).length;
    await recorder().onReport(received(partial));
    expect(outcomes).toEqual(['appended', 'duplicate', 'appended']);
    expect((await denialsIn()).length).toBe(before + 3);
  });

  it('drops a malformed report without appending anything', async () => {
    const before = await store.headPosition();
    await recorder().onReport(received({ ...report({ reportId: 'w1/bad/0' }), denials: [{ at: 'now', operation: 'unwrap', reason: 'expired' }] }));
    await recorder().onReport(received('not a report'));
    expect(outcomes).toEqual(['invalid', 'invalid']);
    expect(await store.headPosition()).toBe(before);
  });
});
