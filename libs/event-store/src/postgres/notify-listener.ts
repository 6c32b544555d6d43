import { Client, Pool } from 'pg';
import type { AppendSignal } from './append-signal';
import { appendChannel } from './identifiers';

const RECONNECT_DELAY_MS = 1000;

/**
 * LISTENs for the append function's NOTIFY so that subscriptions in other processes wake at once. It needs a
 * connection of its own for as long as it listens, so it opens a dedicated client with the pool's settings rather
 * than holding one of the pool's. Best effort: when the connection drops it reconnects after a delay, and in the
 * meantime the subscriptions' poll interval still delivers everything.
 */
export class NotifyListener {
  private client?: Client;
  private reconnectTimer?: NodeJS.Timeout;
  private closed = false;
  private started?: Promise<void>;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly signal: AppendSignal,
  ) {}

  /** Starts listening once; later calls return the same promise. Never rejects: failures schedule a retry. */
  start(): Promise<void> {
    this.started ??= this.connect();
    return this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client(this.pool.options);
    this.client = client;
    client.on('notification', () => this.signal.notify());
    client.on('error', () => this.retry(client));
    client.on('end', () => this.retry(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${appendChannel(this.schema)}"`);
      // Whatever was appended while we were not listening is picked up by this wake-up.
      this.signal.notify();
    } catch {
      this.retry(client);
    }
  }

  /** Drops a failed client and schedules one reconnect; events of clients already replaced are ignored. */
  private retry(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => void this.connect(), RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }
}
