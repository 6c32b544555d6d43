import { DatabaseError, Pool } from 'pg';
import {
  AllFilter,
  AppendOptions,
  AppendResult,
  BatchHandler,
  CheckpointStore,
  ConcurrencyError,
  EventStore,
  ExpectedRevision,
  NewEvent,
  Position,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store.port';
import { AppendBatcher, appendsJson, PendingAppend } from './append-batcher';
import { appendCallSql } from './append-function.sql';
import { AppendRow, appendedEvents, eventsJsonOf, expectedRevisionOf, rowsPerAppend } from './append-rows';
import { acquireAppendSignal, AppendSignal, releaseAppendSignal } from './append-signal';
import { assertStreamName, maxCountOf, positionOf } from './arguments';
import { PostgresCheckpointStore } from './checkpoints';
import { EVENT_COLUMNS, EventRow, toRecordedEvent } from './event-rows';
import { quoteIdentifier } from './identifiers';
import { NotifyListener } from './notify-listener';
import { PollingSubscription, SubscriptionPage } from './polling-subscription';
import { ScopedSql } from './scoped-sql';

export interface PostgresEventStoreOptions {
  schema: string;
  /** Run every statement as this role (SELECT + INSERT only on events), see {@link ScopedSql}. */
  appRole?: string;
  /** Fallback wake-up for subscriptions when no signal arrives (default 500 ms). */
  pollIntervalMs?: number;
  /** NOTIFY on append and LISTEN for subscriptions (real PostgreSQL; embedded has a single session). */
  notify?: boolean;
}

const DEFAULT_POLL_INTERVAL_MS = 500;

/**
 * The EventStore port on PostgreSQL, and on PGlite through the embedded server: the same SQL for both.
 * Guarantees come from the database, see append-function.sql.ts and schema.ddl.ts. The pool is borrowed:
 * `close()` releases only what the adapter opened (its LISTEN connection, its subscriptions).
 */
export class PostgresEventStore implements EventStore {
  readonly checkpoints: CheckpointStore;
  private readonly sql: ScopedSql;
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly signal: AppendSignal;
  private readonly listener?: NotifyListener;
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly batcher = new AppendBatcher<AppendRow[]>((batch) => this.sendAppends(batch));
  private closed = false;

  constructor(
    pool: Pool,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.table = `${quoteIdentifier(options.schema, 'schema')}.events`;
    const poll = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!Number.isFinite(poll) || poll <= 0) throw new RangeError(`pollIntervalMs must be a positive number, got ${poll}`);
    this.pollIntervalMs = poll;
    this.sql = new ScopedSql(pool, options.appRole);
    this.checkpoints = new PostgresCheckpointStore(this.sql, options.schema);
    this.signal = acquireAppendSignal(options.schema);
    if (options.notify) this.listener = new NotifyListener(pool, options.schema, this.signal);
  }

  async append(streamName: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    assertStreamName(streamName);
    const { expectedRevision, commandId } = options;
    const eventsJson = eventsJsonOf(streamName, events, commandId);
    const pending: PendingAppend = { streamName, ...expectedRevisionOf(expectedRevision), commandId: commandId ?? null, eventsJson };
    let rows: AppendRow[];
    try {
      rows = await this.batcher.submit(pending);
    } catch (error) {
      rows = await this.recoverFromUniqueViolation(error, pending, expectedRevision);
    }
    const outcome = rows[0].outcome;
    if (outcome === 'conflict') throw new ConcurrencyError(streamName, expectedRevision, Number(rows[0].actual_revision));
    if (outcome === 'appended') this.signal.notify();
    const recorded = outcome === 'duplicate' ? rows.map(toRecordedEvent) : appendedEvents(streamName, eventsJson, rows);
    const last = recorded[recorded.length - 1];
    return { nextExpectedRevision: last.revision, position: last.position, duplicate: outcome === 'duplicate', events: recorded };
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const limit = maxCountOf(options.maxCount);
    const from = options.fromRevision;
    if (from !== undefined && !Number.isInteger(from)) throw new RangeError(`fromRevision must be an integer, got ${from}`);
    const { rows } = await this.sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.table} e
       WHERE e.stream_name = $1 AND ($2::bigint IS NULL OR e.revision ${backwards ? '<=' : '>='} $2::bigint)
       ORDER BY e.revision ${backwards ? 'DESC' : 'ASC'} LIMIT $3`,
      [streamName, from ?? null, limit],
    );
    return rows.map(toRecordedEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { rows } = await this.sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM ${this.table} e
       WHERE e.global_position > $1 ${filterSql(2)} AND ($4::timestamptz IS NULL OR e.recorded_at <= $4::timestamptz)
       ORDER BY e.global_position LIMIT $5`,
      [positionOf(options.after), options.filter?.categories, options.filter?.eventTypes, options.until, maxCountOf(options.maxCount)],
    );
    return rows.map(toRecordedEvent);
  }

  subscribeAll(handler: BatchHandler, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    positionOf(options.after);
    void this.listener?.start();
    const subscription = new PollingSubscription(
      { readPage: (after, filter, maxCount) => this.readPage(after, filter, maxCount), signal: this.signal, pollIntervalMs: this.pollIntervalMs },
      handler,
      options,
    );
    this.subscriptions.add(subscription);
    subscription.done.then(
      () => this.subscriptions.delete(subscription),
      () => this.subscriptions.delete(subscription),
    );
    return subscription;
  }

  async headPosition(): Promise<Position> {
    this.assertOpen();
    const { rows } = await this.sql.query<{ head: string }>(`SELECT coalesce(max(e.global_position), 0) AS head FROM ${this.table} e`);
    return BigInt(rows[0].head);
  }

  async streamRevision(streamName: string): Promise<number> {
    this.assertOpen();
    return this.currentRevision(streamName);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    // Touches the table, so a missing migration or missing grant shows up as "not ready".
    await this.sql.query(`SELECT 1 FROM ${this.table} e LIMIT 1`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.listener?.close();
    releaseAppendSignal(this.options.schema);
  }

  /**
   * A page for subscriptions, with the head read in the same statement (same snapshot): when fewer than
   * `maxCount` events match, everything up to that head has been seen, and since appends are serialised nothing
   * can still commit below it. Filtered subscriptions thus skip non-matching stretches of the log once.
   */
  private async readPage(after: Position, filter: AllFilter | undefined, maxCount: number): Promise<SubscriptionPage> {
    const { rows } = await this.sql.query<EventRow & { head: string }>(
      // Head and page come from the same statement, hence the same snapshot: no page row can lie beyond the
      // head. The page is NOT bounded by the head in SQL, so the planner walks the primary key in order and
      // stops at the limit (bounding it made PostgreSQL bitmap-scan everything up to the head, then sort).
      `SELECT (SELECT coalesce(max(global_position), 0) FROM ${this.table}) AS head, page.*
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM ${this.table} e
         WHERE e.global_position > $1 ${filterSql(2)}
         ORDER BY e.global_position LIMIT $4
       ) page ON true
       ORDER BY page.global_position`,
      [after, filter?.categories, filter?.eventTypes, maxCount],
    );
    const events = rows.filter((row) => row.global_position !== null).map(toRecordedEvent);
    const head = BigInt(rows[0].head);
    const scannedTo = events.length === maxCount ? events[events.length - 1].position : head > after ? head : after;
    return { events, scannedTo };
  }

  private async currentRevision(streamName: string): Promise<number> {
    const { rows } = await this.sql.query<{ revision: string }>(
      `SELECT coalesce(max(e.revision), -1) AS revision FROM ${this.table} e WHERE e.stream_name = $1`,
      [streamName],
    );
    return Number(rows[0].revision);
  }

  /**
   * The function serialises appends, so unique violations are rare: a writer that bypassed it, or explicit event
   * ids that already exist. A revision clash is a concurrency conflict; an event id clash may be the original of
   * a re-sent command committing in between, so retry once, which then answers with the duplicate.
   */
  private async recoverFromUniqueViolation(error: unknown, pending: PendingAppend, expected: ExpectedRevision): Promise<AppendRow[]> {
    if (!(error instanceof DatabaseError) || error.code !== '23505') throw error;
    if (error.constraint === 'events_stream_revision_key') {
      throw new ConcurrencyError(pending.streamName, expected, await this.currentRevision(pending.streamName));
    }
    if (error.constraint === 'events_event_id_key' && pending.commandId !== null) return this.batcher.submit(pending);
    throw error;
  }

  /** One round trip for a whole batch; rows are grouped back by the index of their append. */
  private async sendAppends(batch: PendingAppend[]): Promise<AppendRow[][]> {
    const { rows } = await this.sql.query<AppendRow>(appendCallSql(this.options.schema), [appendsJson(batch), this.options.notify === true]);
    return rowsPerAppend(rows, batch.length);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** Category and event-type filters at parameters $first (categories) and $first+1 (types); NULL means no filter. */
function filterSql(first: number): string {
  return `AND ($${first}::text[] IS NULL OR e.category = ANY($${first}::text[])) AND ($${first + 1}::text[] IS NULL OR e.type = ANY($${first + 1}::text[]))`;
}

