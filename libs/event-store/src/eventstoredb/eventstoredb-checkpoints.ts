import { jsonEvent, StreamNotFoundError, WrongExpectedVersionError, BACKWARDS, END, type EventStoreDBClient } from '@eventstore/db-client';
import type { CheckpointStore, Position } from '../event-store.port';
import { CHECKPOINT_STREAM_PREFIX } from './audit-stream-guard';
import { drain } from './eventstoredb-drain';

/**
 * Checkpoints of consumers without a database of their own, in `checkpoint_<consumer>` streams that keep only
 * their latest event ($maxCount 1). Compare-and-set is the stream's expected revision: the value read and its
 * revision are checked together by the server. (Projections keep their checkpoints in their read model's
 * database, in the same transaction as the rows; this store is for the mesh bridge and sinks.)
 */
export class EventStoreDbCheckpointStore implements CheckpointStore {
  constructor(private readonly client: EventStoreDBClient) {}

  async get(consumer: string): Promise<Position | null> {
    return (await this.current(consumer)).value;
  }

  async compareAndSet(consumer: string, expected: Position | null, next: Position): Promise<boolean> {
    const current = await this.current(consumer);
    if (current.value !== expected) return false;
    const stream = streamOf(consumer);
    try {
      await this.client.appendToStream(stream, jsonEvent({ type: 'CheckpointMoved', data: { position: next.toString() } }), {
        expectedRevision: current.revision === null ? 'no_stream' : current.revision,
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return false;
      throw error;
    }
    if (current.revision === null) await this.client.setStreamMetadata(stream, { maxCount: 1 });
    return true;
  }

  private async current(consumer: string): Promise<{ value: Position | null; revision: bigint | null }> {
    try {
      const [resolved] = await drain(this.client.readStream(streamOf(consumer), { direction: BACKWARDS, fromRevision: END, maxCount: 1 }));
      if (resolved) {
        const data = resolved.event?.data as { position?: string } | undefined;
        return { value: data?.position !== undefined ? BigInt(data.position) : null, revision: resolved.event!.revision };
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return { value: null, revision: null };
  }
}

function streamOf(consumer: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(consumer)) throw new RangeError(`consumer name must be 1-200 characters of [A-Za-z0-9_.:-], got ${JSON.stringify(consumer)}`);
  return `${CHECKPOINT_STREAM_PREFIX}${consumer}`;
}
