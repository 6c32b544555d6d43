/**
 * The storage of the EventStoreDB Streams double: one transaction log ($all) and per-stream indexes, with the
 * documented semantics the adapter relies on. Everything runs on the event loop, so an append is atomic.
 *
 * - $all positions are byte offsets of the records in the log; every record is written as its own implicit
 *   transaction, so commit == prepare (as EventStoreDB 20+ does for gRPC appends). Offsets grow by the record's
 *   size, so positions are NOT dense.
 * - Expected revision: any, no_stream, stream_exists, or an exact revision; a mismatch is a wrong expected version
 *   reporting the current revision (-1: no stream).
 * - Idempotence (EventStoreDB's documented behaviour): re-appending the same event ids at the same expected
 *   revision succeeds without writing and reports the revision and position of the original; for `any` and
 *   `stream_exists` the ids are looked up in the stream. Ids that match only in part are a wrong expected version.
 * - Stream metadata lives in `$$<stream>` as `$metadata` events; `$maxCount`, `$maxAge` and `$tb` hide events from
 *   stream reads (not from $all, which keeps them until a scavenge, as the server does).
 * - Optionally emulates the `$by_category` system projection: a `$>` link event in `$ce-<category>` after each
 *   event of a non-system stream, so $all interleaves system events with user events as on a real server.
 */
export interface StoredRecord {
  /** Commit == prepare position in $all. */
  position: bigint;
  streamName: string;
  revision: number;
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
  /** .NET ticks (100 ns) since the Unix epoch, as the server sends in the `created` metadata entry. */
  createdTicks: bigint;
}

export interface ProposedEvent {
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  customMetadata: Uint8Array;
}

export type Expected = { kind: 'any' } | { kind: 'no_stream' } | { kind: 'stream_exists' } | { kind: 'revision'; revision: number };

export type AppendOutcome =
  | { kind: 'success'; currentRevision: number; position: bigint | null; written: boolean }
  | { kind: 'wrong_expected_version'; currentRevision: number; expected: Expected };

export interface StreamMetadata {
  $maxCount?: number;
  $maxAge?: number;
  $tb?: number;
  [key: string]: unknown;
}

const FIRST_POSITION = 1_024n;
const RECORD_OVERHEAD = 96;
const TICKS_PER_MS = 10_000n;

export class InMemoryLog {
  private readonly records: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private readonly listeners = new Set<() => void>();
  private nextPosition = FIRST_POSITION;
  private lastTicks = 0n;

  constructor(private readonly options: { emulateCategoryProjection: boolean }) {
    // What a fresh node writes before any user event: system records, so $all never starts with a user event.
    this.write('$stats-127.0.0.1:2113', [jsonProposed('$statsCollected', { 'proc-startTime': new Date().toISOString() })]);
  }

  get length(): number {
    return this.records.length;
  }

  recordAt(index: number): StoredRecord {
    return this.records[index];
  }

  /** Index of the first record whose position is >= `position` (binary search; positions are sorted). */
  indexAtOrAfter(position: bigint): number {
    let low = 0;
    let high = this.records.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.records[mid].position < position) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Revision of the last event of the stream (including events hidden by metadata), -1 when there is none. */
  currentRevision(streamName: string): number {
    const events = this.streams.get(streamName);
    return events && events.length > 0 ? events[events.length - 1].revision : -1;
  }

  exists(streamName: string): boolean {
    return this.currentRevision(streamName) >= 0;
  }

  append(streamName: string, proposed: ProposedEvent[], expected: Expected): AppendOutcome {
    const current = this.currentRevision(streamName);
    const stream = this.streams.get(streamName) ?? [];
    const conflict: AppendOutcome = { kind: 'wrong_expected_version', currentRevision: current, expected };

    let startAt: number | null;
    switch (expected.kind) {
      case 'any':
        startAt = proposed.length > 0 ? findRevisionOf(stream, proposed[0].id) : null;
        break;
      case 'stream_exists':
        if (current < 0) return conflict;
        startAt = proposed.length > 0 ? findRevisionOf(stream, proposed[0].id) : null;
        break;
      case 'no_stream':
        if (current < 0) startAt = null;
        else startAt = 0;
        break;
      case 'revision':
        if (expected.revision === current) startAt = null;
        else if (expected.revision < current) startAt = expected.revision + 1;
        else return conflict;
        break;
    }

    if (startAt !== null) {
      // The stream already has events at the place this append claims: a re-send of the same ids is idempotent.
      const idempotent = matchesIds(stream, startAt, proposed);
      if (idempotent === 'all') {
        const last = stream[startAt + proposed.length - 1];
        return { kind: 'success', currentRevision: last.revision, position: last.position, written: false };
      }
      if (expected.kind === 'any' || expected.kind === 'stream_exists') {
        if (idempotent === 'partial') return conflict;
      } else {
        return conflict;
      }
    }

    if (proposed.length === 0) return { kind: 'success', currentRevision: current, position: null, written: false };
    const written = this.write(streamName, proposed);
    if (this.options.emulateCategoryProjection && !streamName.startsWith('$')) this.linkToCategory(written);
    for (const listener of [...this.listeners]) listener();
    const last = written[written.length - 1];
    return { kind: 'success', currentRevision: last.revision, position: last.position, written: true };
  }

  /** Events of a stream that reads may see, after `$tb`, `$maxCount` and `$maxAge` from its metadata. */
  visibleEvents(streamName: string): StoredRecord[] | null {
    const events = this.streams.get(streamName);
    if (!events || events.length === 0) return null;
    const metadata = streamName.startsWith('$$') ? {} : this.metadataOf(streamName);
    let visible = events;
    if (typeof metadata.$tb === 'number') visible = visible.filter((e) => e.revision >= metadata.$tb!);
    if (typeof metadata.$maxCount === 'number') visible = visible.slice(Math.max(0, visible.length - metadata.$maxCount));
    if (typeof metadata.$maxAge === 'number') {
      const oldest = BigInt(Date.now() - metadata.$maxAge * 1000) * TICKS_PER_MS;
      visible = visible.filter((e) => e.createdTicks >= oldest);
    }
    return visible;
  }

  metadataOf(streamName: string): StreamMetadata {
    const events = this.streams.get(`$$${streamName}`);
    if (!events || events.length === 0) return {};
    const last = events[events.length - 1];
    try {
      const parsed = JSON.parse(Buffer.from(last.data).toString('utf8')) as unknown;
      return parsed !== null && typeof parsed === 'object' ? (parsed as StreamMetadata) : {};
    } catch {
      return {};
    }
  }

  private write(streamName: string, proposed: ProposedEvent[]): StoredRecord[] {
    const stream = this.streams.get(streamName) ?? [];
    this.streams.set(streamName, stream);
    let revision = stream.length > 0 ? stream[stream.length - 1].revision : -1;
    const written = proposed.map((event) => {
      const record: StoredRecord = {
        position: this.nextPosition,
        streamName,
        revision: ++revision,
        id: event.id,
        type: event.type,
        contentType: event.contentType,
        data: event.data,
        customMetadata: event.customMetadata,
        createdTicks: this.nextTicks(),
      };
      this.nextPosition += BigInt(RECORD_OVERHEAD + Buffer.byteLength(streamName) + Buffer.byteLength(event.type) + event.data.length + event.customMetadata.length);
      return record;
    });
    stream.push(...written);
    this.records.push(...written);
    return written;
  }

  private linkToCategory(events: StoredRecord[]): void {
    for (const event of events) {
      const dash = event.streamName.indexOf('-');
      if (dash <= 0) continue;
      const link: ProposedEvent = { id: randomId(), type: '$>', contentType: 'application/octet-stream', data: Buffer.from(`${event.revision}@${event.streamName}`), customMetadata: new Uint8Array() };
      this.write(`$ce-${event.streamName.slice(0, dash)}`, [link]);
    }
  }

  /** Strictly increasing: two events never share a `created` value, like timestamps taken under the writer lock. */
  private nextTicks(): bigint {
    const now = BigInt(Date.now()) * TICKS_PER_MS;
    this.lastTicks = now > this.lastTicks ? now : this.lastTicks + 1n;
    return this.lastTicks;
  }
}

function findRevisionOf(stream: StoredRecord[], id: string): number | null {
  const index = stream.findIndex((e) => e.id === id);
  return index < 0 ? null : index;
}

function matchesIds(stream: StoredRecord[], startAt: number, proposed: ProposedEvent[]): 'all' | 'partial' | 'none' {
  if (proposed.length === 0 || stream[startAt]?.id !== proposed[0].id) return 'none';
  for (let i = 1; i < proposed.length; i++) if (stream[startAt + i]?.id !== proposed[i].id) return 'partial';
  return 'all';
}

function jsonProposed(type: string, data: unknown): ProposedEvent {
  return { id: randomId(), type, contentType: 'application/json', data: Buffer.from(JSON.stringify(data)), customMetadata: new Uint8Array() };
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}
