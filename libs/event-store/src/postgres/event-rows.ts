import type { EventMetadata, RecordedEvent } from '../event-store.port';

/** An events row as pg returns it: bigint columns arrive as strings (they may exceed 2^53). */
export interface EventRow {
  global_position: string;
  stream_name: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata | null;
  recorded_at: Date;
}

export const EVENT_COLUMNS = 'e.global_position, e.stream_name, e.revision, e.event_id, e.type, e.data, e.metadata, e.recorded_at';

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamName: row.stream_name,
    // Revisions are per stream; a stream would need 2^53 events to lose precision here.
    revision: Number(row.revision),
    position: BigInt(row.global_position),
    type: row.type,
    data: row.data,
    metadata: row.metadata ?? {},
    recordedAt: row.recorded_at,
  };
}
