import { START as ESDB_START, streamNameFilter, excludeSystemEvents, type AllStreamResolvedEvent, type AllStreamSubscription, type EventStoreDBClient } from '@eventstore/db-client';
import { START, type BatchHandler, type Position, type RecordedEvent, type SubscribeOptions, type Subscription } from '../event-store.port';
import { matchesFilter } from './eventstoredb-filter';
import { toEsdbPosition, toPortPosition } from './eventstoredb-positions';

interface Settings {
  toRecorded(resolved: AllStreamResolvedEvent): RecordedEvent;
  maxReconnectDelayMs: number;
  onEnd(): void;
}

/** Events buffered ahead of the handler before the server stream is paused (gRPC back-pressure does the rest). */
const HIGH_WATER = 1_000;
const FIRST_RECONNECT_DELAY_MS = 50;

/**
 * Catch-up then live on $all. The server filters by stream prefix (the port's categories) or drops system events;
 * event types are filtered here. Events are handed over in batches of at most `batchSize`, one batch at a time.
 *
 * A dropped connection (any error of the server stream while not stopping) re-subscribes with exponential back-off
 * from the position of the last event RECEIVED (buffered events are still delivered), so the handler sees every
 * event exactly once. A handler error stops the subscription and rejects `done`.
 */
export class EventStoreDbSubscription implements Subscription {
  readonly done: Promise<void>;
  private handled: Position;
  private received: Position;
  private readonly queue: RecordedEvent[] = [];
  private stream: AllStreamSubscription | null = null;
  private stopping = false;
  private settle!: { resolve(): void; reject(error: unknown): void };
  private wake: (() => void) | null = null;
  private reconnectDelay = FIRST_RECONNECT_DELAY_MS;
  private pump: Promise<void>;
  private reconnects = 0;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly handler: BatchHandler,
    private readonly options: SubscribeOptions,
    private readonly settings: Settings,
  ) {
    this.handled = options.after ?? START;
    this.received = this.handled;
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
    this.connect();
    this.pump = this.run();
  }

  get position(): Position {
    return this.handled;
  }

  /** How many times the subscription re-subscribed after losing its server stream. */
  get reconnections(): number {
    return this.reconnects;
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.wake?.();
      await this.closeStream();
    }
    await this.pump.catch(() => undefined);
  }

  private connect(): void {
    const categories = this.options.filter?.categories;
    const stream = this.client.subscribeToAll({
      fromPosition: this.received === START ? ESDB_START : toEsdbPosition(this.received),
      filter: categories ? streamNameFilter({ prefixes: categories.map((c) => `${c}-`) }) : excludeSystemEvents(),
    });
    this.stream = stream;
    stream.on('data', (resolved: AllStreamResolvedEvent) => this.receive(resolved));
    stream.on('error', (error: Error) => void this.lost(stream, error));
    stream.on('end', () => void this.lost(stream, new Error('subscription ended by the server')));
  }

  private receive(resolved: AllStreamResolvedEvent): void {
    if (!resolved.event || this.stopping) return;
    const position = toPortPosition(resolved.event.position, `event ${resolved.event.id}`);
    if (position <= this.received) return; // a re-subscription may repeat its start; never deliver twice
    this.received = position;
    if (!matchesFilter(resolved.event.streamId, resolved.event.type, this.options.filter)) return;
    this.reconnectDelay = FIRST_RECONNECT_DELAY_MS;
    this.queue.push(this.settings.toRecorded(resolved));
    if (this.queue.length >= HIGH_WATER) this.stream?.pause();
    this.wake?.();
  }

  private async lost(stream: AllStreamSubscription, _error: Error): Promise<void> {
    if (this.stopping || this.stream !== stream) return;
    this.stream = null;
    await stream.unsubscribe().catch(() => undefined);
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.settings.maxReconnectDelayMs);
    setTimeout(() => {
      if (this.stopping) return;
      this.reconnects++;
      this.connect();
    }, delay).unref();
  }

  private async run(): Promise<void> {
    const batchSize = Math.max(1, this.options.batchSize ?? 100);
    try {
      while (!this.stopping) {
        if (this.queue.length === 0) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          continue;
        }
        const batch = this.queue.splice(0, batchSize);
        if (this.queue.length < HIGH_WATER / 2) this.stream?.resume();
        await this.handler(batch);
        this.handled = batch[batch.length - 1].position;
      }
      this.settle.resolve();
    } catch (error) {
      this.stopping = true;
      await this.closeStream();
      this.settle.reject(error);
    } finally {
      this.settings.onEnd();
    }
  }

  private async closeStream(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    await stream?.unsubscribe().catch(() => undefined);
  }
}
