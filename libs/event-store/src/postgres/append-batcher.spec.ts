import { DatabaseError } from 'pg';
import { AppendBatcher, appendsJson, PendingAppend } from './append-batcher';

const append = (streamName: string): PendingAppend => ({ streamName, expected: 'any', revision: null, commandId: null, eventsJson: '[]' });

/** A runner whose calls the test completes by hand, to control what is in flight. */
function manualRunner() {
  const calls: { batch: string[]; finish(results?: string[]): void; fail(error: unknown): void }[] = [];
  const run = (batch: PendingAppend[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ batch: batch.map((a) => a.streamName), finish: (r) => resolve(r ?? batch.map((a) => `ok:${a.streamName}`)), fail: reject });
    });
  return { calls, run };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('AppendBatcher (group commit)', () => {
  it('sends a lone append at once, and batches what arrives while one is in flight, in order', async () => {
    const { calls, run } = manualRunner();
    const batcher = new AppendBatcher(run);
    const first = batcher.submit(append('a'));
    await flush();
    expect(calls.map((c) => c.batch)).toEqual([['a']]);

    const queued = [batcher.submit(append('b')), batcher.submit(append('c')), batcher.submit(append('d'))];
    await flush();
    expect(calls).toHaveLength(1);
    calls[0].finish();
    await expect(first).resolves.toBe('ok:a');
    await flush();
    expect(calls[1].batch).toEqual(['b', 'c', 'd']);
    calls[1].finish();
    await expect(Promise.all(queued)).resolves.toEqual(['ok:b', 'ok:c', 'ok:d']);
  });

  it('caps a batch at 64 appends', async () => {
    const { calls, run } = manualRunner();
    const batcher = new AppendBatcher(run);
    const all = [batcher.submit(append('first'))];
    for (let i = 0; i < 100; i++) all.push(batcher.submit(append(`s${i}`)));
    await flush();
    calls[0].finish();
    await flush();
    expect(calls[1].batch).toHaveLength(64);
    calls[1].finish();
    await flush();
    expect(calls[2].batch).toHaveLength(36);
    calls[2].finish();
    await Promise.all(all);
  });

  it('retries the appends of a batch that failed in the database one by one, so only the bad one fails', async () => {
    const { calls, run } = manualRunner();
    const batcher = new AppendBatcher(run);
    const blocker = batcher.submit(append('blocker'));
    await flush();
    const [good, bad, alsoGood] = [batcher.submit(append('good')), batcher.submit(append('bad')), batcher.submit(append('also-good'))];
    const badOutcome = bad.catch((error: unknown) => error);
    calls[0].finish();
    await blocker;
    await flush();
    calls[1].fail(new DatabaseError('duplicate key value violates unique constraint', 0, 'error'));
    await flush();
    calls[2].finish();
    await flush();
    calls[3].fail(new DatabaseError('duplicate key value violates unique constraint', 0, 'error'));
    await flush();
    calls[4].finish();
    expect(calls.slice(2).map((c) => c.batch)).toEqual([['good'], ['bad'], ['also-good']]);
    await expect(good).resolves.toBe('ok:good');
    expect(await badOutcome).toBeInstanceOf(DatabaseError);
    await expect(alsoGood).resolves.toBe('ok:also-good');
  });

  it('reports a broken connection to every append of the batch (their outcome is unknown)', async () => {
    const { calls, run } = manualRunner();
    const batcher = new AppendBatcher(run);
    const blocker = batcher.submit(append('blocker'));
    await flush();
    const outcomes = [batcher.submit(append('x')), batcher.submit(append('y'))].map((p) => p.catch((error: Error) => error.message));
    calls[0].finish();
    await blocker;
    await flush();
    calls[1].fail(new Error('Connection terminated unexpectedly'));
    expect(await Promise.all(outcomes)).toEqual(['Connection terminated unexpectedly', 'Connection terminated unexpectedly']);
    expect(calls).toHaveLength(2);
  });

  it('writes the batch as the JSON the append function takes, with the events spliced in unchanged', () => {
    const json = appendsJson([
      { streamName: 'tenant-"1"', expected: 'revision', revision: 3, commandId: 'cmd', eventsJson: '[{"id":"x","type":"T","data":{"a":1},"metadata":{}}]' },
      { streamName: 'tenant-2', expected: 'no_stream', revision: null, commandId: null, eventsJson: '[]' },
    ]);
    expect(JSON.parse(json)).toEqual([
      { stream: 'tenant-"1"', expected: 'revision', revision: 3, command_id: 'cmd', events: [{ id: 'x', type: 'T', data: { a: 1 }, metadata: {} }] },
      { stream: 'tenant-2', expected: 'no_stream', revision: null, command_id: null, events: [] },
    ]);
  });
});
