import { DatabaseError } from 'pg';

export interface PendingAppend {
  streamName: string;
  expected: 'any' | 'no_stream' | 'stream_exists' | 'revision';
  /** The expected revision when `expected` is 'revision'. */
  revision: number | null;
  commandId: string | null;
  /** The events as a JSON array text: [{ id, type, data, metadata }]. */
  eventsJson: string;
}

/** The batch as the append function takes it; events are spliced in as the JSON text they already are. */
export function appendsJson(batch: PendingAppend[]): string {
  const appends = batch.map(
    (a) =>
      `{"stream":${JSON.stringify(a.streamName)},"expected":${JSON.stringify(a.expected)},"revision":${JSON.stringify(a.revision)},` +
      `"command_id":${JSON.stringify(a.commandId)},"events":${a.eventsJson}}`,
  );
  return `[${appends.join(',')}]`;
}

/** Sends a batch; resolves with one result per append, in order. */
export type BatchRunner<R> = (batch: PendingAppend[]) => Promise<R[]>;

const MAX_BATCH = 64;

/**
 * Group commit for appends (see append_batch in append-function.sql.ts). An append that finds nothing in
 * flight is sent at once, so a lone append pays no extra latency; appends that arrive while a batch is in flight
 * queue up and go together in the next one, in arrival order.
 *
 * A database error aborts the whole batch's transaction, so nothing of it was written; the appends of a failed
 * batch are then retried one by one, so that one bad append fails alone. Any other error (the connection broke:
 * the commit may or may not have happened) is reported to every append of the batch.
 */
export class AppendBatcher<R> {
  private queue: { append: PendingAppend; resolve(result: R): void; reject(error: unknown): void }[] = [];
  private sending = false;

  constructor(private readonly run: BatchRunner<R>) {}

  submit(append: PendingAppend): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ append, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const results = await this.run(batch.map((p) => p.append));
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch (error) {
          if (batch.length === 1 || !(error instanceof DatabaseError)) {
            for (const p of batch) p.reject(error);
            continue;
          }
          for (const p of batch) {
            try {
              p.resolve((await this.run([p.append]))[0]);
            } catch (single) {
              p.reject(single);
            }
          }
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
