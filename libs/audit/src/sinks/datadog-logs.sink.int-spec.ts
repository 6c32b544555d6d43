import { DatadogLogsSink, type DatadogLogsSinkOptions } from './datadog-logs.sink';
import { InMemoryAuditSource, InMemoryCheckpointStore, InMemoryDeadLetterStore } from './in-memory-stores';
import { defaultSecretResolver } from './secret-ref';
import { SinkRunner } from './sink-runner';
import { auditRecords, eventually, positions } from './testing/audit-records';
import { DatadogReceiver } from './testing/datadog-receiver';
import type { AuditRecord } from './audit-record';

const API_KEY = 'dd0123456789abcdef0123456789abcd';
const BACKOFF = { initialMs: 20, maxMs: 500, multiplier: 2, jitter: 0.2 };

describe('DatadogLogsSink against a local Logs intake receiver (stand-in for Datadog HTTP intake v2)', () => {
  let dd: DatadogReceiver;
  const env: NodeJS.ProcessEnv = { DD_API_KEY: API_KEY };

  beforeEach(async () => {
    dd = new DatadogReceiver(API_KEY);
    await dd.start();
  });
  afterEach(async () => {
    await dd.stop();
  });

  function sink(extra: Partial<DatadogLogsSinkOptions> = {}) {
    return new DatadogLogsSink({ name: 'datadog', url: dd.url, apiKey: 'env:DD_API_KEY', resolveSecret: defaultSecretResolver(env), hostname: 'cmk-test', tags: ['env:test'], ...extra });
  }

  function run(records: AuditRecord[], s = sink(), batchSize = 100) {
    const source = new InMemoryAuditSource();
    source.append(...records);
    const checkpoints = new InMemoryCheckpointStore();
    const deadLetters = new InMemoryDeadLetterStore();
    const runner = new SinkRunner({ sink: s, source, checkpoints, deadLetters }, { batchSize, pollIntervalMs: 20, backoff: BACKOFF, failingAfterAttempts: 100 });
    runner.start();
    return { runner, checkpoints, deadLetters };
  }

  it('posts gzip-compressed JSON arrays to /api/v2/logs with DD-API-KEY and the documented fields', async () => {
    const records = auditRecords(150);
    const { runner, checkpoints } = run(records);
    await eventually('all delivered', async () => (await checkpoints.load('datadog')) === '150');
    await runner.stop();
    expect(dd.formatErrors).toEqual([]);
    expect(dd.requests.every((r) => r.headers['dd-api-key'] === API_KEY && r.headers['content-encoding'] === 'gzip')).toBe(true);
    expect(dd.entries.map((e) => e.audit)).toEqual(records);
    expect(dd.entries[0]).toMatchObject({
      ddsource: 'openkcm',
      service: 'openkcm-cmk',
      hostname: 'cmk-test',
      ddtags: `env:test,event_type:${records[0].type},stream_category:keylink`,
      date: records[0].occurredAt,
      evt: { name: records[0].type, category: 'keylink' },
      usr: { id: records[0].metadata.actor!.subject },
    });
    expect(dd.entries[0].message).toContain(`position ${records[0].position}`);
  });

  it('sends uncompressed when gzip is off', async () => {
    await sink({ gzip: false }).deliver(auditRecords(3));
    expect(dd.requests[0].headers['content-encoding']).toBeUndefined();
    expect(dd.entries).toHaveLength(3);
    expect(dd.formatErrors).toEqual([]);
  });

  it('splits batches to at most 1000 entries per array', async () => {
    const records = auditRecords(2500);
    const { runner, checkpoints } = run(records, sink(), 2500);
    await eventually('all delivered', async () => (await checkpoints.load('datadog')) === '2500');
    await runner.stop();
    expect(dd.arrayLengths).toEqual([1000, 1000, 500]);
    expect(positions(dd.entries.map((e) => e.audit))).toEqual(positions(records));
  });

  it('splits to the payload limit and dead-letters an entry over the entry limit without sending it', async () => {
    await dd.stop();
    const limits = { maxPayloadBytes: 20_000, maxEntries: 1000, maxEntryBytes: 5000 };
    dd = new DatadogReceiver(API_KEY, limits);
    await dd.start();
    const records = auditRecords(60);
    records[10] = auditRecords(1, 11, { padBytes: 6000 })[0];
    const { runner, checkpoints, deadLetters } = run(records, sink({ limits }), 60);
    await eventually('all done', async () => (await checkpoints.load('datadog')) === '60');
    await runner.stop();
    expect(dd.formatErrors).toEqual([]);
    expect(Math.max(...dd.payloadSizes)).toBeLessThanOrEqual(20_000);
    expect(deadLetters.letters.map((l) => [l.record.position, l.reason])).toEqual([['11', expect.stringMatching(/^too-large: record is larger than the Datadog entry limit \(5000 bytes\)/)]]);
    expect(positions(dd.entries.map((e) => e.audit))).toEqual(positions(records).filter((p) => p !== 11));
  });

  it('on 413 splits the batch until the intake accepts it', async () => {
    await dd.stop();
    dd = new DatadogReceiver(API_KEY, { maxPayloadBytes: 12_000, maxEntries: 1000, maxEntryBytes: 1024 * 1024 });
    await dd.start();
    const records = auditRecords(64);
    const { runner, checkpoints, deadLetters } = run(records, sink(), 64);
    await eventually('all done', async () => (await checkpoints.load('datadog')) === '64');
    await runner.stop();
    expect(dd.requests.length).toBeGreaterThan(dd.arrayLengths.length); // some requests were answered 413
    expect(deadLetters.letters).toEqual([]);
    expect(positions(dd.entries.map((e) => e.audit))).toEqual(positions(records));
  });

  it('on 400 bisects the batch, dead-letters the refused entry alone, and delivers the rest in order', async () => {
    dd.refuse = (e) => e.audit.position === '42';
    const records = auditRecords(100);
    const { runner, checkpoints, deadLetters } = run(records);
    await eventually('all done', async () => (await checkpoints.load('datadog')) === '100');
    await runner.stop();
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]).toMatchObject({ record: records[41], reason: expect.stringContaining('answered 400') });
    // 100 → 50 → 25 → 13 → 7 → 4 → 2 → 1: the record was in 8 attempts.
    expect(deadLetters.letters[0].attempts).toBe(8);
    expect(positions(dd.entries.map((e) => e.audit))).toEqual(positions(records).filter((p) => p !== 42));
  });

  it('on 403 reports the sink failing and holds the checkpoint until the key is fixed', async () => {
    env.DD_API_KEY = 'revoked-key';
    const { runner, checkpoints } = run(auditRecords(5));
    await eventually('failing', () => runner.status().state === 'failing');
    expect(runner.status().lastError).toMatchObject({ kind: 'failing', status: 403 });
    expect(JSON.stringify(runner.status())).not.toContain('revoked-key');
    expect(await checkpoints.load('datadog')).toBeNull();
    env.DD_API_KEY = API_KEY;
    await eventually('recovered', async () => (await checkpoints.load('datadog')) === '5');
    await runner.stop();
  });

  it('on 429 honours Retry-After, and on 5xx retries', async () => {
    dd.script.push({ status: 429, headers: { 'Retry-After': '1' }, body: { errors: ['Too many requests'] } });
    dd.script.push({ status: 500, body: { errors: ['Internal'] } }, { status: 503, body: { errors: ['Unavailable'] } });
    const { runner, checkpoints } = run(auditRecords(4));
    await eventually('delivered', async () => (await checkpoints.load('datadog')) === '4');
    await runner.stop();
    expect(dd.requests).toHaveLength(4);
    expect(dd.requests[1].at - dd.requests[0].at).toBeGreaterThanOrEqual(990);
    expect(dd.entries).toHaveLength(4);
  });
});
