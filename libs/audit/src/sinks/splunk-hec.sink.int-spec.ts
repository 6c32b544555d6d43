import { InMemoryAuditSource, InMemoryCheckpointStore, InMemoryDeadLetterStore } from './in-memory-stores';
import { defaultSecretResolver } from './secret-ref';
import { SinkRunner } from './sink-runner';
import { SplunkHecSink, type SplunkHecSinkOptions } from './splunk-hec.sink';
import { auditRecords, eventually, positions } from './testing/audit-records';
import { HecReceiver } from './testing/hec-receiver';
import type { AuditRecord } from './audit-record';

const TOKEN = '6f0c1f1e-7a43-4bde-9d2c-3c5f0c0b9a11';
const NO_JITTER = { initialMs: 20, maxMs: 1000, multiplier: 2, jitter: 0 };

describe('SplunkHecSink against a local HEC receiver (stand-in for Splunk HTTP Event Collector)', () => {
  let hec: HecReceiver;
  const env: NodeJS.ProcessEnv = { HEC_TOKEN: TOKEN };

  beforeEach(async () => {
    env.HEC_TOKEN = TOKEN;
    hec = new HecReceiver(TOKEN, { index: 'cmk_audit' });
    await hec.start();
  });
  afterEach(async () => {
    await hec.stop();
  });

  function sink(extra: Partial<SplunkHecSinkOptions> = {}) {
    return new SplunkHecSink({ name: 'splunk', url: hec.url, token: 'env:HEC_TOKEN', resolveSecret: defaultSecretResolver(env), index: 'cmk_audit', host: 'cmk-test', ...extra });
  }

  function run(records: AuditRecord[], s = sink(), batchSize = 50) {
    const source = new InMemoryAuditSource();
    source.append(...records);
    const checkpoints = new InMemoryCheckpointStore();
    const deadLetters = new InMemoryDeadLetterStore();
    const runner = new SinkRunner({ sink: s, source, checkpoints, deadLetters }, { batchSize, pollIntervalMs: 20, backoff: NO_JITTER, failingAfterAttempts: 100 });
    runner.start();
    return { runner, checkpoints, deadLetters };
  }

  it('sends the documented request: POST /services/collector/event, Authorization: Splunk <token>, one JSON event per line', async () => {
    const records = auditRecords(120);
    const { runner, checkpoints } = run(records);
    await eventually('all delivered', async () => (await checkpoints.load('splunk')) === '120');
    await runner.stop();
    expect(hec.formatErrors).toEqual([]);
    expect(hec.requests.every((r) => r.headers.authorization === `Splunk ${TOKEN}`)).toBe(true);
    expect(hec.requests).toHaveLength(3);
    expect(hec.events.map((e) => e.event)).toEqual(records);
    expect(hec.events[0]).toMatchObject({ host: 'cmk-test', source: 'openkcm:cmk', sourcetype: 'openkcm:audit', index: 'cmk_audit' });
    expect(hec.events[0].time).toBe(Date.parse(records[0].occurredAt) / 1000);
    expect(String(hec.events[0].time)).toMatch(/^\d{10}\.\d{1,3}$/);
  });

  it('resolves the token at send time, so a rotated token is used without a restart', async () => {
    const s = sink();
    await s.deliver(auditRecords(1, 1));
    env.HEC_TOKEN = 'rotated-token';
    hec.token = 'rotated-token';
    await s.deliver(auditRecords(1, 2));
    expect(hec.requests.map((r) => r.headers.authorization)).toEqual([`Splunk ${TOKEN}`, 'Splunk rotated-token']);
  });

  it('on 403 (invalid token) reports the sink failing without moving the checkpoint or leaking the token, then recovers', async () => {
    hec.token = 'the-token-splunk-now-expects';
    const { runner, checkpoints } = run(auditRecords(10));
    await eventually('failing', () => runner.status().state === 'failing' && runner.status().consecutiveFailures >= 2);
    const status = runner.status();
    expect(status.lastError).toMatchObject({ kind: 'failing', status: 403 });
    expect(status.lastError!.message).toContain('Invalid token');
    expect(JSON.stringify(status)).not.toContain(TOKEN);
    expect(await checkpoints.load('splunk')).toBeNull();
    hec.token = TOKEN;
    await eventually('recovered', async () => (await checkpoints.load('splunk')) === '10');
    expect(runner.status().state).toBe('ok');
    await runner.stop();
  });

  it('on an unreadable token file, and on 401 (token required): failing, naming the reference only', async () => {
    const s = sink({ token: 'file:/nonexistent/hec-token' });
    await expect(s.deliver(auditRecords(1))).rejects.toMatchObject({ kind: 'failing', message: expect.stringContaining('file:/nonexistent/hec-token') });
    hec.script.push({ status: 401, body: { text: 'Token is required', code: 2 } });
    await expect(sink().deliver(auditRecords(1))).rejects.toMatchObject({ kind: 'failing', status: 401, code: 2 });
  });

  it('on 503 (server busy, code 9) retries with exponential back-off until accepted', async () => {
    for (let i = 0; i < 4; i++) hec.script.push({ status: 503, body: { text: 'Server is busy', code: 9 } });
    const { runner, checkpoints } = run(auditRecords(5), sink(), 5);
    await eventually('retrying', () => runner.status().state === 'retrying');
    expect(runner.status().lastError).toMatchObject({ kind: 'retryable', status: 503 });
    await eventually('delivered', async () => (await checkpoints.load('splunk')) === '5');
    await runner.stop();
    const gaps = hec.requests.slice(1, 5).map((r, i) => r.at - hec.requests[i].at);
    // 20, 40, 80, 160 ms without jitter (timer granularity allows a little less than nominal).
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(20 * 2 ** i - 5));
    expect(gaps[3]).toBeGreaterThan(gaps[0] * 4);
    expect(hec.events).toHaveLength(5);
  });

  it('dead-letters the event HEC names in a 400 (invalid-event-number) and delivers the others in order', async () => {
    hec.refuse = (e) => e.event.position === '37';
    const records = auditRecords(80);
    const { runner, checkpoints, deadLetters } = run(records);
    await eventually('all done', async () => (await checkpoints.load('splunk')) === '80');
    await runner.stop();
    expect(deadLetters.letters).toHaveLength(1);
    expect(deadLetters.letters[0]).toMatchObject({ sink: 'splunk', record: records[36], attempts: 2 });
    expect(deadLetters.letters[0].reason).toMatch(/^rejected: .*400 \(6: Invalid data format\)/);
    expect(positions(hec.events.map((e) => e.event))).toEqual(positions(records).filter((p) => p !== 37));
    expect(runner.status()).toMatchObject({ state: 'ok', deadLetteredRecords: 1, deliveredRecords: 79 });
  });

  it('treats 400 code 7 (incorrect index) as a configuration failure, not as bad records', async () => {
    const { runner } = run(auditRecords(3), sink({ index: 'wrong_index' }));
    await eventually('failing', () => runner.status().state === 'failing');
    expect(runner.status().lastError).toMatchObject({ status: 400, message: expect.stringContaining('Incorrect index') });
    await runner.stop();
    expect(runner.status().deadLetteredRecords).toBe(0);
  });

  it('splits a batch HEC answers 413 to, and dead-letters a single event over max_content_length', async () => {
    await hec.stop();
    hec = new HecReceiver(TOKEN, { index: 'cmk_audit', maxContentLength: 8000 });
    await hec.start();
    const records = auditRecords(40);
    records[25] = auditRecords(1, 26, { padBytes: 9000 })[0];
    const { runner, checkpoints, deadLetters } = run(records, sink(), 40);
    await eventually('all done', async () => (await checkpoints.load('splunk')) === '40', 30_000);
    await runner.stop();
    expect(hec.requests.some((r) => r.rawBytes > 8000)).toBe(true);
    expect(deadLetters.letters.map((l) => l.record.position)).toEqual(['26']);
    expect(deadLetters.letters[0].reason).toMatch(/^too-large: /);
    expect(positions(hec.events.map((e) => e.event))).toEqual(positions(records).filter((p) => p !== 26));
  });

  it('keeps each request under maxRequestBytes by splitting before sending', async () => {
    const records = auditRecords(60);
    const { runner, checkpoints } = run(records, sink({ maxRequestBytes: 4000 }), 60);
    await eventually('all done', async () => (await checkpoints.load('splunk')) === '60');
    await runner.stop();
    expect(hec.requests.length).toBeGreaterThan(5);
    expect(Math.max(...hec.requests.map((r) => r.rawBytes))).toBeLessThanOrEqual(4000);
    expect(hec.events.map((e) => e.event)).toEqual(records);
  });

  it('reports an unreachable collector as retryable', async () => {
    await hec.stop();
    await expect(sink().deliver(auditRecords(1))).rejects.toMatchObject({ kind: 'retryable', message: expect.stringContaining('unreachable') });
  });
});
