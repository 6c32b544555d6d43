import { createHash, randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  jsonEvent,
  START as ESDB_START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { AUDIT_METADATA_KEY, auditFieldsOf, CHAIN_ALG, GENESIS_HASH, linkHash } from '@cmk/audit/hash-chain';
import { appendDigest, StoredContent, storedContentOf } from '../audit-chain';
import { deriveEventId } from '../event-id';
import {
  ConcurrencyError,
  START,
  type AppendOptions,
  type AppendResult,
  type BatchHandler,
  type CheckpointStore,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port';
import { assertAuditStreamName, assertMetadataAllowed, COMMAND_INDEX_CATEGORY } from './audit-stream-guard';
import { parseEventStoreDbConnection } from './eventstoredb-config';
import { EventStoreDbCheckpointStore } from './eventstoredb-checkpoints';
import { drain } from './eventstoredb-drain';
import { isSystem, matchesFilter } from './eventstoredb-filter';
import { toEsdbPosition, toPortPosition } from './eventstoredb-positions';
import { EventStoreDbSubscription } from './eventstoredb-subscription';

export interface EventStoreDbEventStoreOptions {
  /** Validated by parseEventStoreDbConnection. */
  connectionString: string;
  /** Events per readAll page when filtering on the client side. */
  readPageSize?: number;
  /** Longest back-off between re-subscriptions after a dropped connection. */
  maxReconnectDelayMs?: number;
}

/** What the command index stream records for a command id: where its events went. */
interface CommandIndexEntry {
  streamName: string;
  firstRevision: number;
  count: number;
}

/** Largest append accepted: the server's default MaxAppendSize (1 MiB). */
const MAX_APPEND_BYTES = 1024 * 1024;
/** How far back a re-send with 'any' or 'stream_exists' is looked for (the server's own check is bounded too). */
const RESEND_WINDOW = 64;
/** Writers racing on one stream with 'any' each win a round; this bounds a writer that never does. */
const MAX_RELINK_ATTEMPTS = 1_000;

/**
 * The EventStore port on EventStoreDB (or KurrentDB) over gRPC with `@eventstore/db-client`.
 *
 * - Expected revision maps 1:1 (no_stream, stream_exists, any, exact); the server's wrong expected version
 *   becomes {@link ConcurrencyError} with the revision the server reported.
 * - Idempotency: event ids derive from the command id (`deriveEventId`), so the server's own duplicate detection
 *   recognises a re-send to the same stream; a command index stream (`cmkcommand-<sha256(commandId)>`, written
 *   once with no_stream) records where each command's events went, so a re-send returns the first result even
 *   when it names another stream. Limit: a crash between the append and the index write leaves the index empty
 *   for that command; a re-send to the SAME stream is still recognised by the server, one to another stream is not.
 * - Positions: the event's $all commit position (see eventstoredb-positions.ts).
 * - Subscriptions: catch-up then live on $all with a server-side stream-prefix filter (system events are never
 *   delivered), re-subscribing with back-off after a dropped connection from the last event received, so the
 *   handler sees no gap and no duplicate.
 * - Checkpoints for consumers without a database: `checkpoint_<consumer>` streams with $maxCount 1.
 * - Hash chain (libs/audit/src/hash-chain.ts): linked here against the stream's last event, see appendChained.
 */
export class EventStoreDbEventStore implements EventStore {
  readonly checkpoints: CheckpointStore;
  private readonly client: EventStoreDBClient;
  private readonly pageSize: number;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private closed = false;

  constructor(private readonly options: EventStoreDbEventStoreOptions) {
    parseEventStoreDbConnection(options.connectionString);
    this.client = EventStoreDBClient.connectionString(options.connectionString);
    this.pageSize = options.readPageSize ?? 500;
    this.checkpoints = new EventStoreDbCheckpointStore(this.client);
  }

  async append(streamName: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    assertAuditStreamName(streamName);
    if (events.length === 0) throw new RangeError('an append needs at least one event');
    events.forEach(assertEventShape);
    const contents = events.map((event, i) => storedContentOf(event, i));
    const digests = contents.map((content) => appendDigest(streamName, content));
    const { commandId, expectedRevision } = options;
    if (commandId !== undefined) {
      const earlier = await this.lookupCommand(commandId);
      if (earlier) return earlier;
    }
    const ids = events.map((event, i) => event.id ?? (commandId !== undefined ? deriveEventId(commandId, i) : randomUUID()));

    let result;
    try {
      result = await this.appendChained(streamName, contents, ids, digests, expectedRevision, event0IdMayRepeat(events, commandId));
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        if (commandId !== undefined) {
          const raced = await this.lookupCommand(commandId);
          if (raced) return raced;
        }
        const actual = error.actualVersion === 'no_stream' ? -1 : Number(error.actualVersion);
        throw new ConcurrencyError(streamName, expectedRevision, actual);
      }
      throw error;
    }
    // The server answers a recognised re-send with success and no position.
    const duplicate = result.position === undefined;
    const last = Number(result.nextExpectedRevision);
    const firstRevision = last - events.length + 1;
    const recorded = duplicate
      ? await this.readOriginal(streamName, firstRevision, ids)
      : await this.readStream(streamName, { fromRevision: firstRevision, maxCount: events.length });
    if (commandId !== undefined) {
      const indexed = await this.indexCommand(commandId, { streamName, firstRevision: recorded[0].revision, count: recorded.length });
      if (indexed) return indexed;
    }
    return resultOf(recorded, duplicate);
  }

  /**
   * Appends with the hash chain linked to the event the append really follows. The server cannot link, so the
   * adapter reads the stream's last event, links to it, and makes the append conditional on exactly that revision.
   * For 'any' and 'stream_exists' a conflict only means another writer got in between: read again and re-link.
   * Re-sends are recognised as the server would for the caller's expected revision: an exact one is passed on
   * unchanged when it does not match (the server then answers duplicate or wrong expected version and writes
   * nothing); for 'any' and 'stream_exists' the ids are looked for among the stream's last events and, when found,
   * the append is sent conditional on the revision before them, so the server answers it as the duplicate it is.
   */
  private async appendChained(streamName: string, contents: StoredContent[], ids: string[], digests: string[], expected: ExpectedRevision, idsMayRepeat: boolean) {
    const loose = expected === 'any' || expected === 'stream_exists';
    for (let attempt = 1; ; attempt++) {
      const tail = await this.readStream(streamName, { direction: 'backwards', maxCount: loose && idsMayRepeat ? RESEND_WINDOW : 1 });
      const current = tail.length > 0 ? tail[0].revision : -1;
      let conditional: AppendExpectedRevision = toEsdbExpected(expected);
      let relinkOnConflict = false;
      if (loose) {
        const original = idsMayRepeat ? tail.find((event) => event.id === ids[0]) : undefined;
        if (original) conditional = original.revision === 0 ? 'no_stream' : BigInt(original.revision - 1);
        else if (current >= 0 || expected === 'any') [conditional, relinkOnConflict] = [current < 0 ? 'no_stream' : BigInt(current), true];
      }
      let prevHash = tail.length > 0 ? auditFieldsOf(tail[0])?.hash ?? GENESIS_HASH : GENESIS_HASH;
      const data = contents.map((content, i) => {
        const audit = { alg: CHAIN_ALG, prevHash, hash: linkHash(prevHash, Buffer.from(digests[i], 'hex')) };
        prevHash = audit.hash;
        return jsonEvent({ id: ids[i], type: content.type, data: content.data as never, metadata: { ...content.metadata, [AUDIT_METADATA_KEY]: audit } as never });
      });
      const bytes = data.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e.data)) + Buffer.byteLength(JSON.stringify(e.metadata ?? {})), 0);
      if (bytes > MAX_APPEND_BYTES) throw new RangeError(`append of ${bytes} bytes exceeds the ${MAX_APPEND_BYTES}-byte limit`);
      try {
        return await this.client.appendToStream(streamName, data, { expectedRevision: conditional });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError && relinkOnConflict && attempt < MAX_RELINK_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const maxCount = options.maxCount;
    if (maxCount !== undefined && (!Number.isInteger(maxCount) || maxCount < 0)) throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
    if (options.fromRevision !== undefined && (!Number.isInteger(options.fromRevision) || options.fromRevision < 0)) {
      throw new RangeError(`fromRevision must be a non-negative integer, got ${options.fromRevision}`);
    }
    if (maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    try {
      const read = await drain(
        this.client.readStream(streamName, {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision: options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : ESDB_START,
          ...(maxCount !== undefined ? { maxCount } : {}),
        }),
      );
      return read.map(toRecorded);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const after = options.after ?? START;
    const limit = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`maxCount must be a non-negative integer, got ${limit}`);
    const found: RecordedEvent[] = [];
    // Pages start AT the last position seen (a record boundary the server accepts) and skip what was seen.
    let seen = after;
    while (found.length < limit) {
      const page = await drain(this.client.readAll({ fromPosition: seen === START ? ESDB_START : toEsdbPosition(seen), direction: FORWARDS, maxCount: this.pageSize }));
      for (const resolved of page) {
        const position = toPortPosition(resolved.event?.position, 'event in $all');
        if (position <= seen) continue;
        seen = position;
        if (!resolved.event || !matchesFilter(resolved.event.streamId, resolved.event.type, options.filter)) continue;
        if (options.until && resolved.event.created > options.until) continue;
        found.push(toRecorded(resolved as ResolvedEvent));
        if (found.length === limit) break;
      }
      if (page.length < this.pageSize) break;
    }
    return found;
  }

  subscribeAll(handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const subscription = new EventStoreDbSubscription(this.client, handler, options, {
      toRecorded,
      maxReconnectDelayMs: this.options.maxReconnectDelayMs ?? 5_000,
      onEnd: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** The newest project event: system records the server writes after it ($by_category links, stats) are not events of ours. */
  async headPosition(): Promise<Position> {
    this.assertOpen();
    let from: typeof END | ReturnType<typeof toEsdbPosition> = END;
    for (;;) {
      const page = await drain(this.client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: this.pageSize }));
      for (const resolved of page) {
        const event = (resolved as AllStreamResolvedEvent).event;
        if (!event) continue;
        const position = toPortPosition(event.position, 'event in $all');
        if (!isSystem(event.streamId, event.type)) return position;
        from = toEsdbPosition(position);
      }
      if (page.length < this.pageSize) return START;
    }
  }

  async streamRevision(streamName: string): Promise<number> {
    const [last] = await this.readStream(streamName, { direction: 'backwards', maxCount: 1 });
    return last ? last.revision : -1;
  }

  /** Sets stream metadata on a non-audit stream; refuses retention, truncation and ACLs on audit streams. */
  async setStreamMetadata(streamName: string, metadata: Record<string, unknown>): Promise<void> {
    this.assertOpen();
    assertMetadataAllowed(streamName, metadata);
    await this.client.setStreamMetadata(streamName, metadata as never);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.headPosition();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }

  /** The events of the first append of `ids`, read from where the server says they are. */
  private async readOriginal(streamName: string, firstRevision: number, ids: string[]): Promise<RecordedEvent[]> {
    const events = await this.readStream(streamName, { fromRevision: Math.max(0, firstRevision), maxCount: ids.length });
    if (events.length !== ids.length || events.some((e, i) => e.id !== ids[i])) {
      throw new Error(`EventStoreDB reported a duplicate append to ${streamName}, but the stream does not hold its events at revision ${firstRevision}`);
    }
    return events;
  }

  private commandStream(commandId: string): string {
    return `${COMMAND_INDEX_CATEGORY}-${createHash('sha256').update(commandId, 'utf8').digest('hex')}`;
  }

  private async lookupCommand(commandId: string): Promise<AppendResult | null> {
    const [entry] = await this.readStream(this.commandStream(commandId), { maxCount: 1 });
    if (!entry) return null;
    const { streamName, firstRevision, count } = entry.data as CommandIndexEntry;
    const events = await this.readStream(streamName, { fromRevision: firstRevision, maxCount: count });
    return resultOf(events, true);
  }

  /** Records where a command's events went; when another caller recorded it first, returns that result. */
  private async indexCommand(commandId: string, entry: CommandIndexEntry): Promise<AppendResult | null> {
    try {
      await this.client.appendToStream(this.commandStream(commandId), jsonEvent({ type: 'CommandAppended', data: { commandId, ...entry } as never }), {
        expectedRevision: 'no_stream',
      });
      return null;
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const earlier = await this.lookupCommand(commandId);
      const same = earlier && earlier.events[0]?.streamName === entry.streamName && earlier.events[0]?.revision === entry.firstRevision;
      return same ? null : earlier;
    }
  }
}

/** Ids derived from a command id or given by the caller can name events already written; random ones cannot. */
function event0IdMayRepeat(events: NewEvent[], commandId: string | undefined): boolean {
  return commandId !== undefined || events[0].id !== undefined;
}

function assertEventShape(event: NewEvent, index: number): void {
  if (typeof event.type !== 'string' || !/^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/.test(event.type)) {
    throw new TypeError(`event ${index}: type must be 1-200 characters starting with a letter, got ${JSON.stringify(event.type)}`);
  }
  if (event.id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(event.id)) {
    throw new TypeError(`event ${index}: id must be a UUID, got ${JSON.stringify(event.id)}`);
  }
}

function resultOf(events: RecordedEvent[], duplicate: boolean): AppendResult {
  const last = events[events.length - 1];
  return { nextExpectedRevision: last.revision, position: last.position, duplicate, events };
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'no_stream' || expected === 'any' || expected === 'stream_exists') return expected;
  if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`expected revision must be a non-negative integer or no_stream/any/stream_exists, got ${String(expected)}`);
  return BigInt(expected);
}

function toRecorded(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent {
  const event = resolved.event;
  if (!event) throw new Error('resolved event without an event (unresolved link)');
  return {
    id: event.id,
    streamName: event.streamId,
    revision: Number(event.revision),
    position: toPortPosition(event.position, `event ${event.id}`),
    type: event.type,
    data: event.isJson ? event.data : Buffer.from(event.data as Uint8Array),
    metadata: ((event.metadata as EventMetadata | undefined) ?? {}) as EventMetadata,
    recordedAt: event.created,
  };
}
