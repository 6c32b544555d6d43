/**
 * The mesh: the message fabric between the control plane's bridge and the regional workers (Kafka in
 * production, in process in embedded mode). Topics are split into partitions; a message's key picks its
 * partition, so all messages of one key (one tenant) live in one ordered log.
 *
 * Guarantees every adapter keeps (checked by the contract suite in `testing/`):
 * - **Durable publish**: `publish` resolves only once the broker has acknowledged every message (Kafka: acks
 *   from all in-sync replicas, idempotent producer). It retries broker unavailability with back-off for a
 *   bounded time and then rejects; a rejected publish may still have written some or all of its messages.
 * - **Per-key order**: messages of one key are delivered in the order they were published, within one
 *   `publish` call and across calls the publisher awaited one after the other. Concurrent `publish` calls
 *   have no order between them.
 * - **At-least-once delivery**: a message is handed to a subscriber's handler until the handler resolves for
 *   it; a handler that throws gets the same message again (and the partition waits). After a crash, a restart
 *   or a broker outage, messages can arrive more than once, and a redelivery can go back a little in a key's
 *   sequence. Consumers therefore carry the publisher's position in a header and drop anything at or below
 *   the position they already applied (see {@link MESH_POSITION_HEADER}).
 * - **Consumer groups**: a subscription with a `groupId` resumes after the last message it handled; its
 *   partitions are shared among the group's live subscriptions.
 * - **Compacted topics** keep at least the latest message per key: reading one from the beginning yields,
 *   for every key, its latest value (possibly after some older ones; compaction runs in the background).
 */
export interface Mesh {
  /**
   * Appends messages and resolves once the broker acknowledged all of them. The topic must exist
   * (see {@link Mesh.ensureTopics}); topics are never created implicitly.
   */
  publish(topic: string, messages: readonly MeshMessage[]): Promise<void>;

  /**
   * Delivers messages of `topics` to `handler`, one at a time, in partition order. Resolves once the
   * subscription has joined its group and fixed its starting positions, so that every message published after
   * that is delivered (unless another member of the same group owns its partition).
   *
   * `options` is a group id, or {@link SubscribeOptions}. Starting point of a partition:
   * - the group's committed position, if the group has one (a group resumes where it left off);
   * - otherwise the oldest message still kept if `fromBeginning`, else the end of the partition as it was when
   *   `subscribe` was called.
   * Without a `groupId` the subscription is private: it commits nothing and never shares partitions.
   */
  subscribe(
    topics: string | readonly string[],
    options: string | SubscribeOptions,
    handler: MeshHandler,
  ): Promise<MeshSubscription>;

  /**
   * Creates missing topics; an existing topic is left as it is, but a different partition count is an error
   * (the count decides which partition a key lives in, so changing it would break per-key order).
   */
  ensureTopics(topics: readonly MeshTopic[]): Promise<void>;

  /** Stops every subscription and releases connections. The mesh cannot be used afterwards. */
  close(): Promise<void>;
}

/** A message to publish. The key decides the partition and therefore the order (use the tenant id). */
export interface MeshMessage {
  key: string;
  value: Buffer | string;
  /** Small UTF-8 metadata, such as {@link MESH_POSITION_HEADER}. */
  headers?: MeshHeaders;
}

export type MeshHeaders = Readonly<Record<string, string>>;

/** A delivered message. `offset` is the partition's 64-bit offset as a decimal string. */
export interface ReceivedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  /** Header values decoded as UTF-8; when a header repeats, the last value wins. */
  headers: MeshHeaders;
  /** Milliseconds since the epoch at which the broker (or the producer) stamped the message. */
  timestamp: number;
}

/** Handles one message. Resolving marks it done; throwing makes the mesh deliver it again. */
export type MeshHandler = (message: ReceivedMessage) => Promise<void>;

export interface SubscribeOptions {
  /** Members of one group share partitions and resume from the group's committed position. */
  groupId?: string;
  /** Where a partition without a committed position starts: the oldest kept message (true) or the end (false). */
  fromBeginning?: boolean;
  /**
   * Longest time the broker holds an empty fetch. Delivery of new messages does not wait for it; it bounds how
   * quickly the consumer notices that it must stop or rebalance. Adapters pick a small default.
   */
  maxWaitTimeInMs?: number;
}

export interface MeshSubscription {
  /**
   * Stops delivery after the message in progress, commits what was handled, and leaves the group. It waits for
   * the handler, so a handler must not await its own subscription's stop().
   */
  stop(): Promise<void>;
}

export interface MeshTopic {
  name: string;
  partitions: number;
  /** Keep only the latest message per key (Kafka `cleanup.policy=compact`). */
  compacted?: boolean;
  /** How long messages are kept; absent: the broker's default (Kafka: 7 days). */
  retentionMs?: number;
}

/**
 * The header carrying the publisher's position (the event store's global position, as a decimal string).
 * Consumers keep the highest position applied per key and drop any message at or below it.
 */
export const MESH_POSITION_HEADER = 'cmk-position';
