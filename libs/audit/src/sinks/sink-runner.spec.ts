import type { AuditRecord } from './audit-record';
import { InMemoryAuditSource, InMemoryCheckpointStore, InMemoryDeadLetterStore } from './in-memory-stores';
import type { SiemSink } from './siem-sink.port';
import { SinkDeliveryError } from './sink.errors';
import { SinkRunner, type SinkRunnerOptions } from './sink-runner';
import { auditRecords, eventually, positions, sleep } from './testing/audit-records';

/** A sink double whose answer to each batch the test decides; it keeps what it accepted. */
class ScriptedSink implements SiemSink {
  readonly name = 'scripted';
  readonly accepted: AuditRecord[] = [];
  readonly calls: string[][] = [];
  closed = false;
  answer: (batch: readonly AuditRecord[], call: number) => Promise<void> | void = () => undefined;

  async deliver(batch: readonly AuditRecord[]): Promise<void> {
    this.calls.push(batch.map((r) => r.position));
    await this.answer(batch, this.calls.length);
    this.accepted.push(...batch);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const TINY_BACKOFF = { initialMs: 1, maxMs: 5, multiplier: 2, jitter: 0 };

function setup(count: number, options: SinkRunnerOptions = {}) {
  const sink = new ScriptedSink();
  const source = new InMemoryAuditSource();
  source.append(...auditRecords(count));
  const checkpoints = new InMemoryCheckpointStore();
  const deadLetters = new InMemoryDeadLetterStore();
  const runner = new SinkRunner({ sink, source, checkpoints, deadLetters }, { batchSize: 10, pollIntervalMs: 5, backoff: TINY_BACKOFF, ...options });
  return { sink, source, checkpoints, deadLetters, runner };
}

const caughtUp = (c: InMemoryCheckpointStore, p: string) => async () => (await c.load('scripted')) === p;

describe('SinkRunner', () => {
  it('saves the checkpoint only after the sink accepted the batch', async () => {
    const { sink, checkpoints, runner } = setup(5);
    let release!: () => void;
    sink.answer = () => new Promise<void>((r) => (release = r));
    runner.start();
    await eventually('a delivery in flight', () => sink.calls.length === 1);
    await sleep(20);
    expect(await checkpoints.load('scripted')).toBeNull();
    release();
    await eventually('checkpoint at 5', caughtUp(checkpoints, '5'));
    await runner.stop();
    expect(checkpoints.history).toEqual([{ sink: 'scripted', position: '5' }]);
  });

  it('delivers in order in batches and resumes after the stored checkpoint', async () => {
    const { sink, source, checkpoints, deadLetters, runner } = setup(25);
    runner.start();
    await eventually('caught up', caughtUp(checkpoints, '25'));
    await runner.stop();
    expect(sink.calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(sink.closed).toBe(true);

    source.append(...auditRecords(3, 26));
    const again = new ScriptedSink();
    const second = new SinkRunner({ sink: again, source, checkpoints, deadLetters }, { pollIntervalMs: 5 });
    second.start();
    await eventually('caught up again', caughtUp(checkpoints, '28'));
    await second.stop();
    expect(positions(again.accepted)).toEqual([26, 27, 28]);
  });

  it('backs off on retryable failures, goes failing after failingAfterAttempts, and recovers', async () => {
    const { sink, checkpoints, runner } = setup(3, { failingAfterAttempts: 3 });
    const states: string[] = [];
    sink.answer = (_, call) => {
      states.push(runner.status().state);
      if (call <= 4) throw new SinkDeliveryError('retryable', 'receiver busy', { status: 503 });
    };
    runner.start();
    await eventually('delivered', caughtUp(checkpoints, '3'));
    await runner.stop();
    // State seen at the start of calls 2..5: after 1, 2, 3 and 4 failures.
    expect(states.slice(1)).toEqual(['retrying', 'retrying', 'failing', 'failing']);
    expect(runner.status()).toMatchObject({ state: 'ok', consecutiveFailures: 0, lastError: { kind: 'retryable', status: 503, message: 'receiver busy' } });
  });

  it('goes failing at once on a credential failure', async () => {
    const { sink, runner } = setup(3);
    sink.answer = () => {
      throw new SinkDeliveryError('failing', 'token refused', { status: 403 });
    };
    runner.start();
    await eventually('failing', () => runner.status().state === 'failing');
    await runner.stop();
    expect(runner.status().consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(runner.status().nextRetryAt).not.toBeNull();
  });

  it('waits at least Retry-After, and the back-off delays grow up to the cap', async () => {
    const { sink, checkpoints, runner } = setup(1, { backoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 } });
    const at: number[] = [];
    sink.answer = (_, call) => {
      at.push(Date.now());
      if (call === 1) throw new SinkDeliveryError('retryable', 'slow down', { retryAfterMs: 150 });
      if (call <= 5) throw new SinkDeliveryError('retryable', 'busy');
    };
    runner.start();
    await eventually('delivered', caughtUp(checkpoints, '1'));
    await runner.stop();
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(145);
    expect(gaps.slice(1)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(gaps[1]).toBeGreaterThanOrEqual(18); // attempt 2: 20 ms
    expect(gaps[3]).toBeGreaterThanOrEqual(38); // attempt 4: 80 ms capped to 40
    expect(gaps[4]).toBeLessThan(140);
  });

  it('checkpoints the records a sink reports delivered before failing, and resends only the rest', async () => {
    const { sink, checkpoints, runner } = setup(10);
    sink.answer = (batch, call) => {
      if (call === 1) throw new SinkDeliveryError('retryable', 'connection reset', { delivered: 4 });
    };
    runner.start();
    await eventually('delivered', caughtUp(checkpoints, '10'));
    await runner.stop();
    expect(sink.calls).toEqual([positions(auditRecords(10)).map(String), ['5', '6', '7', '8', '9', '10']]);
    expect(checkpoints.history.map((h) => h.position)).toEqual(['4', '10']);
  });

  it('bisects a refused batch, dead-letters exactly the refused records, keeps the order of the rest', async () => {
    const { sink, checkpoints, deadLetters, runner } = setup(10);
    const bad = new Set(['3', '8']);
    sink.answer = (batch) => {
      if (batch.some((r) => bad.has(r.position))) throw new SinkDeliveryError('rejected', 'invalid data', { status: 400 });
    };
    runner.start();
    await eventually('done', caughtUp(checkpoints, '10'));
    await runner.stop();
    expect(positions(sink.accepted)).toEqual([1, 2, 4, 5, 6, 7, 9, 10]);
    expect(deadLetters.letters.map((l) => [l.record.position, l.reason, l.attempts])).toEqual([
      ['3', 'rejected: invalid data', 4],
      ['8', 'rejected: invalid data', 4],
    ]);
    // The checkpoint only ever moved forward, and past 3 only once 3 was dead-lettered.
    const saved = checkpoints.history.map((h) => Number(h.position));
    expect(saved).toEqual([...saved].sort((a, b) => a - b));
    expect(runner.status()).toMatchObject({ deliveredRecords: 8, deadLetteredRecords: 2, state: 'ok' });
  });

  it('splits around the record the sink names instead of bisecting', async () => {
    const { sink, checkpoints, deadLetters, runner } = setup(10);
    sink.answer = (batch) => {
      const i = batch.findIndex((r) => r.position === '6');
      if (i >= 0) throw new SinkDeliveryError('rejected', 'bad event', { rejectedIndex: i });
    };
    runner.start();
    await eventually('done', caughtUp(checkpoints, '10'));
    await runner.stop();
    expect(sink.calls).toEqual([['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'], ['1', '2', '3', '4', '5'], ['6'], ['7', '8', '9', '10']]);
    expect(deadLetters.letters.map((l) => l.record.position)).toEqual(['6']);
  });

  it('never moves past a refused record while the dead-letter store is failing', async () => {
    const { sink, checkpoints, deadLetters, runner } = setup(3, { batchSize: 1 });
    sink.answer = (batch) => {
      if (batch[0].position === '2') throw new SinkDeliveryError('too-large', 'over 1 MB');
    };
    const put = deadLetters.put.bind(deadLetters);
    let storeDown = true;
    let failedPuts = 0;
    deadLetters.put = async (l) => {
      if (storeDown) {
        failedPuts++;
        throw new Error('dead-letter table unavailable');
      }
      return put(l);
    };
    runner.start();
    await eventually('several failed puts', () => failedPuts >= 3);
    expect(runner.status().lastError).toMatchObject({ kind: 'dead-letter', message: 'Error: dead-letter table unavailable' });
    expect(await checkpoints.load('scripted')).toBe('1');
    expect(positions(sink.accepted)).toEqual([1]); // record 3 waits behind the record being dead-lettered
    storeDown = false;
    await eventually('done', caughtUp(checkpoints, '3'));
    await runner.stop();
    expect(deadLetters.letters.map((l) => l.record.position)).toEqual(['2']);
    expect(positions(sink.accepted)).toEqual([1, 3]);
  });

  it('retries a failed checkpoint save without resending the batch', async () => {
    const { sink, checkpoints, runner } = setup(5);
    const save = checkpoints.save.bind(checkpoints);
    let failSaves = 2;
    checkpoints.save = async (s, p) => {
      if (failSaves-- > 0) throw new Error('database unavailable');
      return save(s, p);
    };
    runner.start();
    await eventually('saved', caughtUp(checkpoints, '5'));
    await runner.stop();
    expect(sink.calls).toHaveLength(1);
  });

  it('treats an unexpected error from a sink as retryable', async () => {
    const { sink, checkpoints, runner } = setup(2);
    sink.answer = (_, call) => {
      if (call === 1) throw new TypeError('socket hang up');
    };
    runner.start();
    await eventually('delivered', caughtUp(checkpoints, '2'));
    await runner.stop();
    expect(runner.status().lastError).toMatchObject({ kind: 'retryable', message: 'TypeError: socket hang up' });
  });

  it('refuses a source that goes backwards instead of checkpointing a lie', async () => {
    const { sink, source, checkpoints, runner } = setup(3);
    const read = source.readFrom.bind(source);
    source.readFrom = async (after, limit) => (after === null ? [...(await read(after, limit))].reverse() : read(after, limit));
    runner.start();
    await eventually('source error', () => runner.status().lastError?.kind === 'source');
    await runner.stop();
    expect(sink.calls).toEqual([]);
    expect(await checkpoints.load('scripted')).toBeNull();
  });

  it('stop() ends a long back-off wait promptly and closes the sink', async () => {
    const { sink, runner } = setup(1, { backoff: { initialMs: 60_000, maxMs: 60_000, multiplier: 2, jitter: 0 } });
    sink.answer = () => {
      throw new SinkDeliveryError('retryable', 'down');
    };
    runner.start();
    await eventually('backing off', () => runner.status().state === 'retrying');
    const t = Date.now();
    await runner.stop();
    expect(Date.now() - t).toBeLessThan(1000);
    expect(sink.closed).toBe(true);
    expect(runner.status().running).toBe(false);
  });

  it('notify() wakes an idle runner before its poll interval', async () => {
    const { source, checkpoints, runner } = setup(1, { pollIntervalMs: 60_000 });
    runner.start();
    await eventually('caught up', caughtUp(checkpoints, '1'));
    await sleep(10);
    source.append(...auditRecords(1, 2));
    runner.notify();
    await eventually('woken', caughtUp(checkpoints, '2'), 1000);
    await runner.stop();
  });

  it('reports lag against the source head', async () => {
    const { sink, runner } = setup(30);
    sink.answer = () => {
      throw new SinkDeliveryError('retryable', 'down');
    };
    runner.start();
    await eventually('retrying', () => runner.status().state === 'retrying');
    expect(runner.status()).toMatchObject({ headPosition: '30', lag: 30, lastDeliveredPosition: null });
    await runner.stop();
  });
});
