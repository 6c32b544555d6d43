import { AllFilter, BatchHandler, Position, RecordedEvent, START, SubscribeOptions, Subscription } from '../event-store.port';
import type { AppendSignal } from './append-signal';

export interface SubscriptionPage {
  /** Matching events after the cursor, in global order, at most `maxCount`. */
  events: RecordedEvent[];
  /**
   * How far the log was looked at: the last returned position, or the head of the log when fewer than
   * `maxCount` matched. Safe to continue from, because appends are serialised (nothing can commit below it later).
   */
  scannedTo: Position;
}

export interface SubscriptionSource {
  readPage(after: Position, filter: AllFilter | undefined, maxCount: number): Promise<SubscriptionPage>;
  signal: AppendSignal;
  pollIntervalMs: number;
}

const DEFAULT_BATCH_SIZE = 100;

/**
 * Catch-up then live, as one loop: read a page after the cursor; hand it to the handler; when the page was not
 * full the subscription is live and waits for a wake-up (local append, NOTIFY, or the poll interval, whichever
 * comes first) before reading again. Because the cursor only moves forward and the handler runs one batch at a
 * time, every event is delivered at most once and in global order.
 *
 * A handler error or a failed read ends the subscription and rejects `done`; the owner decides whether to
 * resubscribe from its checkpoint. Do not await `stop()` from inside the handler: it waits for the handler.
 */
export class PollingSubscription implements Subscription {
  readonly done: Promise<void>;
  private current: Position;
  private readonly stopping = new AbortController();

  constructor(
    private readonly source: SubscriptionSource,
    private readonly handler: BatchHandler,
    private readonly options: SubscribeOptions = {},
  ) {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    this.current = options.after ?? START;
    this.done = this.run(batchSize);
    // `done` is the owner's to observe; without this an unobserved handler failure would crash the process.
    this.done.catch(() => undefined);
  }

  get position(): Position {
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.done.catch(() => undefined);
  }

  private async run(batchSize: number): Promise<void> {
    const { source } = this;
    let cursor = this.current;
    while (!this.stopping.signal.aborted) {
      const generation = source.signal.generation;
      const page = await source.readPage(cursor, this.options.filter, batchSize);
      if (this.stopping.signal.aborted) return;
      if (page.events.length > 0) {
        await this.handler(page.events);
        this.current = page.events[page.events.length - 1].position;
      }
      cursor = page.scannedTo;
      if (page.events.length < batchSize) await source.signal.wait(generation, source.pollIntervalMs, this.stopping.signal);
    }
  }
}
