/**
 * The worker-status recorder against the real PostgreSQL event store: changes only, exactly once when two bridge
 * instances hear the same report, silence recorded once, and malformed reports dropped.
 */
import { Pool } from 'pg';
import { encodeMessage, WorkerStatusMessage } from '@cmk/orbital';
import type { ReceivedMessage } from '@cmk/mesh';
import { migrateEventStore, PostgresEventStore } from '@cmk/event-store';
import { freshSchemaName, testDatabaseUrl } from '../../../test/support/postgres';
import { InvalidFeedbackError } from './feedback';
import { parseWorkerStatus, WorkerStatusRecorder } from './worker-status';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const status = (over: Partial<WorkerStatusMessage> = {}): WorkerStatusMessage => ({
  kind: 'worker-status',
  workerId: 'w1',
  region: 'eu-central-1',
  startedAt: '2026-11-29T10:00:00.000Z',
  sentAt: '2026-11-29T10:00:01.000Z',
  intervalMs: 100,
  ready: true,
  policies: [{ policyId: 'geo', version: 1, tenants: 2 }],
  servedTenants: 2,
  ...over,
});
const received = (m: unknown): ReceivedMessage => ({ topic: 'cmk.worker-status', partition: 0, offset: '0', key: 'w1', value: Buffer.from(JSON.stringify(m)), headers: {} }) as unknown as ReceivedMessage;

let pool: Pool;
let store: PostgresEventStore;
const abort = new AbortController();
const recorder = (now: () => number) =>
  new WorkerStatusRecorder(store, quiet, abort.signal, (actor, occurredAt, commandId) => ({ actor: { subject: actor, roles: ['regional-worker'] }, occurredAt, commandId }), () => undefined, {
    silentAfterIntervals: 3,
    minSilenceMs: 1_000,
    now,
  });

beforeAll(async () => {
  pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
  const schema = freshSchemaName('ws');
  await migrateEventStore(pool, { schema });
  store = new PostgresEventStore(pool, { schema, notify: false });
});
afterAll(async () => {
  abort.abort();
  await store?.close?.();
  await pool?.end();
});

const types = async (workerId = 'w1') => (await store.readStream(`worker-${workerId}`)).map((e) => e.type);

describe('worker status recorder (real PostgreSQL)', () => {
  it('records the first report and changes only; two bridges hearing the same change record it once', async () => {
    let now = 0;
    const a = recorder(() => now);
    const b = recorder(() => now);
    await a.onStatus(received(status()));
    await b.onStatus(received(status({ sentAt: '2026-11-29T10:00:01.100Z' })));
    await a.onStatus(received(status({ sentAt: '2026-11-29T10:00:01.200Z', servedTenants: 3, policies: [{ policyId: 'geo', version: 1, tenants: 3 }] })));
    expect(await types()).toEqual(['WorkerEnforcementReported']);
    const v2 = status({ sentAt: '2026-11-29T10:00:02.000Z', policies: [{ policyId: 'geo', version: 2, tenants: 2 }] });
    await Promise.all([a.onStatus(received(v2)), b.onStatus(received(v2))]);
    expect(await types()).toEqual(['WorkerEnforcementReported', 'WorkerEnforcementReported']);

    // Silence: past 3 intervals but within the 1 s minimum nothing; past it, once, from either bridge.
    now = 900;
    await a.checkSilence();
    expect(await types()).toHaveLength(2);
    now = 1_001;
    await Promise.all([a.checkSilence(), b.checkSilence()]);
    await a.checkSilence();
    expect(await types()).toEqual(['WorkerEnforcementReported', 'WorkerEnforcementReported', 'WorkerSilent']);

    // A restarted bridge learns the worker from the store; the first report after silence is recorded again.
    const restarted = recorder(() => now);
    await restarted.load();
    await restarted.onStatus(received(v2));
    expect((await types()).at(-1)).toBe('WorkerEnforcementReported');
    await restarted.onStatus(received({ ...v2, stopping: true, sentAt: '2026-11-29T10:00:09.000Z' }));
    expect((await types()).at(-1)).toBe('WorkerStopped');
    now = 1e9;
    await restarted.checkSilence();
    expect((await types()).at(-1)).toBe('WorkerStopped');
  });

  it('a restarted bridge notices a worker that died while it was down (one silence bound after loading)', async () => {
    let now = 0;
    await recorder(() => now).onStatus(received(status({ workerId: 'w2' })));
    const restarted = recorder(() => now);
    await restarted.load();
    now = 999;
    await restarted.checkSilence();
    expect(await types('w2')).toEqual(['WorkerEnforcementReported']);
    now = 1_001;
    await restarted.checkSilence();
    expect(await types('w2')).toEqual(['WorkerEnforcementReported', 'WorkerSilent']);
  });

  it('drops malformed reports without recording anything', async () => {
    const r = recorder(() => 0);
    await r.onStatus(received({ ...status({ workerId: 'w3' }), policies: [{ policyId: 'geo', version: 0, tenants: 1 }] }));
    await r.onStatus(received({ ...status({ workerId: 'w3' }), kind: 'usage' }));
    expect(await store.readStream('worker-w3')).toEqual([]);
    expect(() => parseWorkerStatus(encodeMessage(status({ intervalMs: 0 })))).toThrow(InvalidFeedbackError);
    expect(() => parseWorkerStatus(encodeMessage(status({ startedAt: 'yesterday' })))).toThrow(InvalidFeedbackError);
    expect(parseWorkerStatus(encodeMessage(status()))).toEqual(status());
  });
});
