import { DatadogLogsSink } from './datadog-logs.sink';
import { InMemoryAuditSource, InMemoryCheckpointStore, InMemoryDeadLetterStore } from './in-memory-stores';
import { defaultSecretResolver } from './secret-ref';
import { SinkRunner } from './sink-runner';
import { SplunkHecSink } from './splunk-hec.sink';
import { auditRecords, eventually, positions, sleep } from './testing/audit-records';
import { DatadogReceiver } from './testing/datadog-receiver';
import { HecReceiver } from './testing/hec-receiver';

describe('two sinks on one source, one down (local HEC and Datadog intake receivers)', () => {
  it('a sink that is down delays only itself, and catches up from its own checkpoint when it is back', async () => {
    const env = { HEC: 'hec-token', DD: 'dd-key' };
    const hec = new HecReceiver('hec-token');
    const dd = new DatadogReceiver('dd-key');
    await hec.start();
    const hecPort = hec.boundPort;
    await hec.stop(); // Splunk is down: connection refused
    await dd.start();

    const source = new InMemoryAuditSource();
    source.append(...auditRecords(300));
    const checkpoints = new InMemoryCheckpointStore();
    const deadLetters = new InMemoryDeadLetterStore();
    const backoff = { initialMs: 20, maxMs: 100, multiplier: 2, jitter: 0.5 };
    const resolveSecret = defaultSecretResolver(env);
    const splunk = new SinkRunner(
      { sink: new SplunkHecSink({ name: 'splunk', url: `http://127.0.0.1:${hecPort}`, token: 'env:HEC', resolveSecret }), source, checkpoints, deadLetters },
      { batchSize: 50, pollIntervalMs: 20, backoff, failingAfterAttempts: 5 },
    );
    const datadog = new SinkRunner(
      { sink: new DatadogLogsSink({ name: 'datadog', url: dd.url, apiKey: 'env:DD', resolveSecret }), source, checkpoints, deadLetters },
      { batchSize: 50, pollIntervalMs: 20, backoff },
    );
    splunk.start();
    datadog.start();
    try {
      await eventually('datadog caught up', async () => (await checkpoints.load('datadog')) === '300');
      source.append(...auditRecords(100, 301));
      datadog.notify();
      await eventually('datadog caught up again', async () => (await checkpoints.load('datadog')) === '400');
      expect(positions(dd.entries.map((e) => e.audit))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));

      await eventually('splunk failing after 5 attempts', () => splunk.status().state === 'failing');
      expect(splunk.status()).toMatchObject({ lastDeliveredPosition: null, lag: 400, lastError: { kind: 'retryable' } });
      expect(datadog.status()).toMatchObject({ state: 'ok', lag: 0, lastError: null });
      expect(await checkpoints.load('splunk')).toBeNull();

      await hec.start(hecPort);
      await eventually('splunk caught up', async () => (await checkpoints.load('splunk')) === '400', 10_000);
      await sleep(50);
      expect(positions(hec.events.map((e) => e.event))).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      expect(splunk.status()).toMatchObject({ state: 'ok', lag: 0 });
      expect(deadLetters.letters).toEqual([]);
    } finally {
      await Promise.all([splunk.stop(), datadog.stop()]);
      await Promise.all([hec.stop(), dd.stop()]);
    }
  });
});
