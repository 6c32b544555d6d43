import { randomUUID } from 'node:crypto';
import { AUDIT_METADATA_KEY } from '@cmk/audit/hash-chain';
import type { EventMetadata, ExpectedRevision, NewEvent, RecordedEvent } from '../event-store.port';
import { appendDigest, storedContentOf } from '../audit-chain';
import { deriveEventId } from '../event-id';
import type { PendingAppend } from './append-batcher';
import type { EventRow } from './event-rows';

/** A row of the append function (see append-function.sql.ts). */
export type AppendRow = EventRow & { append_index: number; outcome: 'appended' | 'duplicate' | 'conflict'; actual_revision: string | null };

type WireEvent = { id: string; type: string; data: unknown; metadata: EventMetadata; digest: string };

/**
 * The events as the append function takes them. Ids: explicit, else derived from the command id, else random.
 * `digest` is the content digest of the event's JSON form, which the function links into the stream's hash chain.
 */
export function eventsJsonOf(streamName: string, events: NewEvent[], commandId: string | undefined): string {
  if (events.length === 0) throw new RangeError('append needs at least one event');
  const wire = events.map((event, i) => {
    if (typeof event.type !== 'string' || event.type === '') throw new TypeError(`event ${i} needs a non-empty type`);
    const content = storedContentOf(event, i);
    const id = event.id ?? (commandId !== undefined ? deriveEventId(commandId, i) : randomUUID());
    return JSON.stringify({ id, ...content, digest: appendDigest(streamName, content) } satisfies WireEvent);
  });
  return `[${wire.join(',')}]`;
}

export function expectedRevisionOf(expected: ExpectedRevision): Pick<PendingAppend, 'expected' | 'revision'> {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return { expected, revision: null };
  if (typeof expected === 'number' && Number.isInteger(expected) && expected >= -1) return { expected: 'revision', revision: expected };
  throw new RangeError(`invalid expected revision: ${String(expected)}`);
}

/** Rows of a batch, grouped by append and in position order within each. */
export function rowsPerAppend(rows: AppendRow[], appends: number): AppendRow[][] {
  const results: AppendRow[][] = Array.from({ length: appends }, () => []);
  for (const row of rows) results[row.append_index].push(row);
  const position = (row: AppendRow) => BigInt(row.global_position ?? 0);
  for (const rowsOfOne of results) rowsOfOne.sort((a, b) => (position(a) < position(b) ? -1 : position(a) > position(b) ? 1 : 0));
  return results;
}

/**
 * The appended events as stored: their JSON form (Dates became strings, undefined vanished), not the input, with
 * the chain fields the function added (for appended rows it returns only those in the metadata column).
 */
export function appendedEvents(streamName: string, eventsJson: string, rows: AppendRow[]): RecordedEvent[] {
  const stored = new Map((JSON.parse(eventsJson) as WireEvent[]).map((event) => [event.id, event]));
  return rows.map((row) => {
    const event = stored.get(row.event_id)!;
    return {
      id: row.event_id,
      streamName,
      revision: Number(row.revision),
      position: BigInt(row.global_position),
      type: event.type,
      data: event.data,
      metadata: { ...event.metadata, [AUDIT_METADATA_KEY]: row.metadata },
      recordedAt: row.recorded_at,
    };
  });
}
