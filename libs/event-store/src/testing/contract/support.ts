import { randomBytes, randomUUID } from 'node:crypto';
import { ConcurrencyError, EventStore, NewEvent, Position, RecordedEvent, SubscribeOptions, Subscription } from '../../event-store.port';

/** A category of its own per test, so that the suite also works on a store that other tests share. */
export function freshCategory(prefix = 'c'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export function streamIn(category: string): string {
  return `${category}-${randomUUID()}`;
}

export function someEvents(count: number, type = 'Tested', from = 0): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({ type, data: { n: from + i }, metadata: { correlationId: `corr-${from + i}` } }));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retries the assertion until it passes or the time is up (then its last failure is thrown). */
export async function eventually(assertion: () => void | Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

export async function concurrencyErrorOf(promise: Promise<unknown>): Promise<ConcurrencyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConcurrencyError) return error;
    throw error;
  }
  throw new Error('expected a ConcurrencyError, but the append succeeded');
}

export interface Collector {
  subscription: Subscription;
  events: RecordedEvent[];
  batchSizes: number[];
}

export function collect(store: EventStore, options: SubscribeOptions): Collector {
  const events: RecordedEvent[] = [];
  const batchSizes: number[] = [];
  const subscription = store.subscribeAll(async (batch) => {
    batchSizes.push(batch.length);
    events.push(...batch);
  }, options);
  return { subscription, events, batchSizes };
}

export function positionsOf(events: RecordedEvent[]): Position[] {
  return events.map((e) => e.position);
}

export function expectStrictlyIncreasing(positions: Position[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (!(positions[i] > positions[i - 1])) throw new Error(`positions not strictly increasing at ${i}: ${positions[i - 1]} then ${positions[i]}`);
  }
}

/** Every event appended after `after`, read back in pages (the whole log of this test). */
export async function readEverythingAfter(store: EventStore, after: Position, categories?: string[]): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let cursor = after; ; ) {
    const page = await store.readAll({ after: cursor, maxCount: 500, filter: categories ? { categories } : undefined });
    if (page.length === 0) return all;
    all.push(...page);
    cursor = page[page.length - 1].position;
  }
}
