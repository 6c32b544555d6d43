/**
 * The event store port. Streams are the audit log, so the guarantees below are load-bearing:
 *
 * - `append` is atomic per call: all events of one call land with consecutive revisions, or none do.
 * - Expected revision is checked inside the same transaction as the insert; a mismatch throws
 *   {@link ConcurrencyError} and writes nothing.
 * - Idempotency: when `commandId` is given, event ids are derived from it deterministically; re-sending the
 *   same command id appends nothing and returns the result of the first append.
 * - Global positions are strictly increasing in commit order. A reader of `readAll` / `subscribeAll` never
 *   skips an event whose transaction commits late (appends are serialised, see the adapters).
 * - Subscriptions deliver each event at most once per subscription, in global order, catch-up then live.
 */
export type Position = bigint;

/** Start of the global log: reading "after" this position returns the first event. */
export const START: Position = 0n;

export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | number;

export interface EventMetadata {
  actor?: { subject: string; roles: string[]; tenantScope?: string[] };
  commandId?: string;
  correlationId?: string;
  causationId?: string;
  occurredAt?: string;
  schemaVersion?: number;
  [key: string]: unknown;
}

export interface NewEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
  metadata?: EventMetadata;
  /** Optional explicit id; when absent and a commandId is given, it is derived from the command id. */
  id?: string;
}

export interface RecordedEvent<T extends string = string, D = unknown> {
  id: string;
  streamName: string;
  revision: number;
  position: Position;
  type: T;
  data: D;
  metadata: EventMetadata;
  recordedAt: Date;
}

export interface AppendOptions {
  expectedRevision: ExpectedRevision;
  /** Idempotency key for the whole append; usually the command id. */
  commandId?: string;
}

export interface AppendResult {
  /** Revision of the last event now in the stream (-1 if the stream is still empty). */
  nextExpectedRevision: number;
  /** Global position of the last event written by this append (or by the first append for a replay). */
  position: Position;
  /** True when this call was recognised as a re-send of an earlier command and appended nothing. */
  duplicate: boolean;
  /** Events written by this append (or by the original append, for a duplicate). */
  events: RecordedEvent[];
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive revision to start at. Defaults to 0 forwards and the end backwards. */
  fromRevision?: number;
  maxCount?: number;
}

export interface AllFilter {
  /** Stream categories to include (the part of the stream name before the first `-`). */
  categories?: string[];
  eventTypes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: events with a position strictly greater than this are returned. */
  after?: Position;
  maxCount?: number;
  filter?: AllFilter;
  /** Only events recorded at or before this time (time travel). */
  until?: Date;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint to resume after. */
  after?: Position;
  filter?: AllFilter;
  /** Max events per delivered batch. */
  batchSize?: number;
}

export type BatchHandler = (events: RecordedEvent[]) => Promise<void>;

export interface Subscription {
  /** Resolves when the subscription has stopped (after `stop()` or a handler error). */
  readonly done: Promise<void>;
  /** Position of the last event handed to the handler successfully. */
  readonly position: Position;
  stop(): Promise<void>;
}

export interface EventStore {
  append(streamName: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up then live. Handler errors stop the subscription and reject `done`. */
  subscribeAll(handler: BatchHandler, options?: SubscribeOptions): Subscription;
  /** Position of the newest event in the store (START when empty). */
  headPosition(): Promise<Position>;
  /** Revision of the last event of a stream, or -1 when the stream does not exist. */
  streamRevision(streamName: string): Promise<number>;
  checkpoints: CheckpointStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Compare-and-set checkpoints for consumers (projections, the mesh bridge, sinks). */
export interface CheckpointStore {
  get(consumer: string): Promise<Position | null>;
  /**
   * Moves the checkpoint from `expected` (null: not yet stored) to `next`. Returns false and changes
   * nothing when the stored value is not `expected`.
   */
  compareAndSet(consumer: string, expected: Position | null, next: Position): Promise<boolean>;
}

export class ConcurrencyError extends Error {
  readonly name = 'ConcurrencyError';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`Stream ${streamName} is at revision ${actual}, expected ${String(expected)}`);
  }
}

export const EVENT_STORE = Symbol('EVENT_STORE');
