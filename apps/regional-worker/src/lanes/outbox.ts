import type { Logger } from 'pino';
import type { Mesh, MeshMessage } from '@cmk/mesh';

export interface OutboxOptions {
  /** Longest pause between attempts while the mesh refuses (doubles from 100 ms). Default 5 s. */
  maxBackoffMs?: number;
  /** Messages held at most while the mesh is down; the oldest are dropped (and logged) beyond. Default 10 000. */
  capacity?: number;
  /** Called with each message dropped for capacity (so a lane can count what it lost). */
  onDropped?: (message: MeshMessage) => void;
}

/**
 * Publishes messages in the order pushed, retrying until the mesh acknowledges them, without making the pusher
 * wait. Revocations are enforced (keys zeroised, requests denied) before their ack is published, and a slow or
 * absent broker must never hold that up, nor the lane that delivers heartbeats.
 */
export class Outbox {
  private readonly queue: MeshMessage[] = [];
  private pumping: Promise<void> | null = null;
  private closed = false;
  private wakeSleeper: (() => void) | null = null;
  private inFlight = 0;

  constructor(
    private readonly mesh: Mesh,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly options: OutboxOptions = {},
    private readonly onPublished: (count: number) => void = () => undefined,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(message: MeshMessage): void {
    if (this.closed) return;
    const capacity = this.options.capacity ?? 10_000;
    // The oldest message not in flight: one being published may still land, and the pump removes the batch it
    // sent by count, so dropping from inside it would lose a later message instead.
    if (this.queue.length >= capacity && this.inFlight < this.queue.length) {
      const [dropped] = this.queue.splice(this.inFlight, 1);
      this.log.error({ topic: this.topic, capacity }, 'outbox full: dropped its oldest message');
      this.options.onDropped?.(dropped);
    }
    this.queue.push(message);
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  /** Waits until everything pushed so far is published, or `timeoutMs` passed; then stops retrying. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([this.pumping ?? Promise.resolve(), deadline]);
    this.closed = true;
    this.wakeSleeper?.();
    // A publish still in flight is not awaited: it may retry for the mesh's publish timeout.
    if (this.queue.length > 0) this.log.warn({ topic: this.topic, unpublished: this.queue.length }, 'outbox closed with unpublished messages');
  }

  private async pump(): Promise<void> {
    let backoff = 100;
    while (this.queue.length > 0 && !this.closed) {
      const batch = this.queue.slice(0, 100);
      this.inFlight = batch.length;
      try {
        await this.mesh.publish(this.topic, batch);
        this.inFlight = 0;
        this.queue.splice(0, batch.length);
        this.onPublished(batch.length);
        backoff = 100;
      } catch (error) {
        this.inFlight = 0;
        if (this.closed) return;
        this.log.warn({ topic: this.topic, pending: this.queue.length, err: (error as Error).message }, 'publish failed; retrying');
        await new Promise<void>((resolve) => {
          this.wakeSleeper = resolve;
          setTimeout(resolve, backoff).unref();
        });
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 5_000);
      }
    }
  }
}
