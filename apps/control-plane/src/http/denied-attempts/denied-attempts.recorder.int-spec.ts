import { Counter, Registry } from 'prom-client';
import { freshSchemaName } from '@cmk/testing';
import { Database, migrateEventStore, openDatabase, PostgresEventStore } from '@cmk/event-store';
import type { EventStore, NewEvent } from '@cmk/event-store';
import { deniedStream } from '@cmk/domain';
import type { DeniedAttempt } from './denied-attempt';
import { DeniedAttemptsRecorder, DeniedAttemptsSettings } from './denied-attempts.recorder';

const DAY = new Date('2026-03-14T10:00:00Z');

function attempt(over: Partial<DeniedAttempt> = {}): DeniedAttempt {
  return { at: DAY.toISOString(), method: 'GET', path: '/v1/key-links/:keyLinkId', target: { keyLinkId: 'k-1' }, status: 401, reason: 'expired', subject: 'unauthenticated', roles: [], source: '10.0.0.1', ...over };
}

function metrics() {
  const registry = new Registry();
  const accessDenied = new Counter({ name: 'denied', help: 'h', labelNames: ['status', 'reason'], registers: [registry] });
  const accessDeniedAudit = new Counter({ name: 'audit', help: 'h', labelNames: ['outcome'], registers: [registry] });
  const value = async (c: Counter<string>, labels: Record<string, string>) => (await c.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { accessDenied, accessDeniedAudit, value };
}

const settings = (over: Partial<DeniedAttemptsSettings> = {}): DeniedAttemptsSettings => ({
  rateLimit: { perWindow: 3, windowMs: 60_000, maxSources: 100 },
  queueLimit: 1_000,
  batchSize: 100,
  summaryIntervalMs: 3_600_000,
  ...over,
});

/** Against the event store on embedded PostgreSQL (PGlite, in process), the store the embedded mode runs on. */
describe('DeniedAttemptsRecorder on the embedded event store (PGlite)', () => {
  let db: Database;
  let store: EventStore;
  const warnings: string[] = [];
  const logger = { warn: (_: object, msg: string) => void warnings.push(msg) };

  beforeAll(async () => {
    db = await openDatabase({ kind: 'embedded', dataDir: 'memory://' });
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    const schema = freshSchemaName('es');
    await migrateEventStore(db.pool, { schema, appRole: `${schema}_app` });
    store = new PostgresEventStore(db.pool, { schema, appRole: `${schema}_app`, notify: false });
    warnings.length = 0;
  });

  it('appends refusals to the day stream, then one summary for what the per-source budget suppressed', async () => {
    const m = metrics();
    let now = DAY.getTime();
    const recorder = new DeniedAttemptsRecorder(store, m, logger, settings(), () => now);
    for (let i = 0; i < 10; i++) recorder.record(attempt({ correlationId: `c-${i}` }));
    recorder.record(attempt({ source: '10.0.0.2', status: 403, reason: 'tenant-scope', subject: 'alice', issuer: 'urn:idp', roles: ['key-admin'], refusedTenantId: 't-b' }));
    now += 60_000;
    await recorder.close();

    const events = await store.readStream('denied-20260314');
    expect(deniedStream(DAY)).toBe('denied-20260314');
    expect(events.map((e) => e.type)).toEqual(['AccessDenied', 'AccessDenied', 'AccessDenied', 'AccessDenied', 'AccessDeniedSuppressed']);
    expect(events[0].data).toEqual(attempt({ correlationId: 'c-0' }));
    expect(events[0].metadata).toMatchObject({ correlationId: 'c-0', occurredAt: DAY.toISOString() });
    expect(events[0].metadata.actor).toBeUndefined(); // an unverified caller is nobody
    expect(events[3].metadata.actor).toEqual({ subject: 'alice', roles: ['key-admin'] });
    expect(events[4].data).toEqual({ source: '10.0.0.1', status: 401, count: 7, window: { from: DAY.toISOString(), to: new Date(now).toISOString() } });
    expect(await m.value(m.accessDenied, { status: '401', reason: 'expired' })).toBe(10);
    expect(await m.value(m.accessDeniedAudit, { outcome: 'recorded' })).toBe(4);
    expect(await m.value(m.accessDeniedAudit, { outcome: 'suppressed' })).toBe(7);
  });

  it('returns at once while the store is slow, and drops beyond the bounded queue with a metric', async () => {
    const m = metrics();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: EventStore = Object.create(store, { append: { value: async (s: string, e: NewEvent[], o: never) => (await gate, store.append(s, e, o)) } });
    const recorder = new DeniedAttemptsRecorder(slow, m, logger, settings({ queueLimit: 5, batchSize: 2, rateLimit: { perWindow: 1000, windowMs: 60_000, maxSources: 100 } }));
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) recorder.record(attempt({ source: `10.0.1.${i}` }));
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
    release();
    await recorder.close();
    // The first refusal went to the store at once (and waited there); five more waited in the queue; fourteen were dropped.
    expect((await store.readStream('denied-20260314')).length).toBe(6);
    expect(await m.value(m.accessDeniedAudit, { outcome: 'dropped' })).toBe(14);
  });

  it('survives a store outage: drops with a metric and a warning, never throws', async () => {
    const m = metrics();
    const outage = await openDatabase({ kind: 'embedded', dataDir: 'memory://' });
    const schema = freshSchemaName('es');
    await migrateEventStore(outage.pool, { schema, appRole: `${schema}_app` });
    const doomed = new PostgresEventStore(outage.pool, { schema, appRole: `${schema}_app`, notify: false });
    await outage.close();
    const recorder = new DeniedAttemptsRecorder(doomed, m, logger, settings());
    expect(() => recorder.record(attempt())).not.toThrow();
    await recorder.close();
    expect(await m.value(m.accessDeniedAudit, { outcome: 'dropped' })).toBe(1);
    expect(warnings).toEqual(['refused requests could not be recorded in the audit']);
  });
});
