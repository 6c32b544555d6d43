import type { CheckpointStore, Position } from '@cmk/event-store';
import { CheckpointFencedError, CheckpointKeeper } from './checkpoint-keeper';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** An in-memory CheckpointStore that can fail on demand. */
class FakeCheckpoints implements CheckpointStore {
  readonly values = new Map<string, Position>();
  failures = 0;
  calls = 0;
  async get(consumer: string) {
    return this.values.get(consumer) ?? null;
  }
  async compareAndSet(consumer: string, expected: Position | null, next: Position) {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database unavailable');
    }
    if ((this.values.get(consumer) ?? null) !== expected) return false;
    this.values.set(consumer, next);
    return true;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('CheckpointKeeper', () => {
  it('moves to what was published', async () => {
    const store = new FakeCheckpoints();
    const keeper = new CheckpointKeeper(store, 'b', null, quiet, () => undefined);
    keeper.markPublished(10n);
    await settle();
    expect(store.values.get('b')).toBe(10n);
    expect(keeper.position).toBe(10n);
  });

  it('stays below a revocation whose dispatch is not recorded, and moves on once it is', async () => {
    const store = new FakeCheckpoints();
    store.values.set('b', 3n);
    const keeper = new CheckpointKeeper(store, 'b', 3n, quiet, () => undefined);
    keeper.hold(7n);
    keeper.hold(9n);
    keeper.markPublished(12n);
    await settle();
    expect(store.values.get('b')).toBe(6n);
    keeper.release(9n);
    await settle();
    expect(store.values.get('b')).toBe(6n);
    keeper.release(7n);
    await settle();
    expect(store.values.get('b')).toBe(12n);
  });

  it('retries while the database is unavailable', async () => {
    const store = new FakeCheckpoints();
    store.failures = 2;
    const keeper = new CheckpointKeeper(store, 'b', null, quiet, () => undefined);
    keeper.markPublished(5n);
    await new Promise((r) => setTimeout(r, 800));
    expect(store.values.get('b')).toBe(5n);
    expect(store.calls).toBe(3);
  });

  it('reports being fenced when someone else moved the checkpoint, and stops moving it', async () => {
    const store = new FakeCheckpoints();
    store.values.set('b', 20n);
    const fenced: Error[] = [];
    const keeper = new CheckpointKeeper(store, 'b', 10n, quiet, (e) => fenced.push(e));
    keeper.markPublished(15n);
    await settle();
    expect(fenced).toEqual([new CheckpointFencedError('b', 10n)]);
    keeper.markPublished(30n);
    await keeper.close();
    expect(store.values.get('b')).toBe(20n);
  });

  it('makes a last move on close', async () => {
    const store = new FakeCheckpoints();
    store.failures = 1;
    const keeper = new CheckpointKeeper(store, 'b', null, quiet, () => undefined);
    keeper.markPublished(4n);
    await keeper.close();
    expect(store.values.get('b')).toBe(4n);
  });
});
