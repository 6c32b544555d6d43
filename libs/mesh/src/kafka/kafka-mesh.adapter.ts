import { randomUUID } from 'node:crypto';
import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaMessage,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { MeshClosedError, MeshPublishError, MeshTopicMismatchError, MeshUnknownTopicError } from '../mesh.errors';
import type {
  Mesh,
  MeshHandler,
  MeshHeaders,
  MeshMessage,
  MeshSubscription,
  MeshTopic,
  ReceivedMessage,
  SubscribeOptions,
} from '../mesh.port';
import { type KafkaMeshOptions, type MeshLogger, type ResolvedKafkaMeshOptions, resolveKafkaMeshOptions } from './kafka-mesh.options';

/** Errors that no retry can fix: publish gives up on them at once. */
const FATAL_PUBLISH_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);
/** The broker lost or rejected the idempotent producer's identity: a fresh producer (new id) carries on. */
const PRODUCER_IDENTITY_ERRORS = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** kafkajs' own retries inside one attempt; publish and consumers retry further around them. */
const CLIENT_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 };

/**
 * The mesh on Apache Kafka through kafkajs. Publishing uses one idempotent producer (acks from all in-sync
 * replicas, one request in flight, so retries can neither duplicate nor reorder within a producer session) and
 * the Java client's key partitioner. Each subscription is its own consumer, tuned for latency: the broker
 * answers a fetch as soon as one byte is there, and holds an empty fetch only briefly.
 */
export class KafkaMesh implements Mesh {
  private readonly options: ResolvedKafkaMeshOptions;
  private readonly logger: MeshLogger;
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(options: KafkaMeshOptions) {
    this.options = resolveKafkaMeshOptions(options);
    this.logger = this.options.logger ?? consoleLogger;
    this.kafka = new Kafka({
      clientId: this.options.clientId,
      brokers: [...this.options.brokers],
      connectionTimeout: this.options.connectionTimeoutMs,
      requestTimeout: this.options.requestTimeoutMs,
      retry: CLIENT_RETRY,
      logLevel: logLevel.WARN,
      logCreator: logCreatorFor(this.logger),
    });
  }

  async publish(topic: string, messages: readonly MeshMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    const records = messages.map((m) => ({ key: m.key, value: m.value, headers: { ...(m.headers ?? {}) } }));
    const deadline = Date.now() + this.options.publishTimeoutMs;
    // One fan-out (a global policy revision: a view per tenant) can exceed what the broker takes in one partition
    // batch; it goes out in requests of bounded size, each acknowledged before the next, so order holds and a
    // retry re-sends only the request that failed.
    for (const chunk of boundedChunks(records, this.options.maxRequestBytes)) await this.send(topic, chunk, deadline);
  }

  private async send(topic: string, records: { key: string; value: Buffer | string; headers: Record<string, string> }[], deadline: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const producer = await this.connectedProducer();
        await producer.send({ topic, acks: -1, messages: records });
        return;
      } catch (error) {
        const types = errorTypes(error);
        const unknownTopic = types.includes('UNKNOWN_TOPIC_OR_PARTITION') && !(await this.topicExists(topic).catch(() => true));
        if (unknownTopic || types.some((t) => FATAL_PUBLISH_ERRORS.has(t)) || this.closed || Date.now() >= deadline) {
          // kafkajs hands a failed batch's sequence numbers to the next batch; had the broker written the failed
          // one after all, it would take different messages with those numbers for a duplicate and drop them.
          // A fresh producer (new producer id) after giving up rules that out.
          await this.resetProducer();
          throw unknownTopic ? new MeshUnknownTopicError(topic) : new MeshPublishError(topic, attempt, error);
        }
        if (types.some((t) => PRODUCER_IDENTITY_ERRORS.has(t))) await this.resetProducer();
        this.logger.warn({ topic, attempt, err: describe(error) }, 'mesh publish failed; retrying');
        await sleep(Math.min(100 * 2 ** (attempt - 1), 2_000, Math.max(0, deadline - Date.now())));
      }
    }
  }

  async subscribe(
    topics: string | readonly string[],
    options: string | SubscribeOptions,
    handler: MeshHandler,
  ): Promise<MeshSubscription> {
    this.assertOpen();
    const names = typeof topics === 'string' ? [topics] : [...topics];
    const { groupId, fromBeginning = false, maxWaitTimeInMs } = typeof options === 'string' ? { groupId: options } : options;
    const deadline = Date.now() + this.options.subscribeTimeoutMs;
    const admin = await this.connectedAdmin();
    const existing = new Set(await retrying(() => admin.listTopics(), deadline));
    for (const name of names) if (!existing.has(name)) throw new MeshUnknownTopicError(name);

    const isPrivate = groupId === undefined;
    const group = groupId ?? `${this.options.clientId}-private-${randomUUID()}`;
    const pins = fromBeginning
      ? new Map<string, string>()
      : await retrying(() => this.endPositions(admin, group, names, isPrivate), deadline);
    const consumer = this.kafka.consumer({
      groupId: group,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(this.options.sessionTimeoutMs / 10)),
      rebalanceTimeout: this.options.rebalanceTimeoutMs,
      maxWaitTimeInMs: maxWaitTimeInMs ?? this.options.maxWaitTimeInMs,
      minBytes: 1,
      allowAutoTopicCreation: false,
      retry: CLIENT_RETRY,
    });
    const subscription = new KafkaSubscription(consumer, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    // When connecting or subscribing fails first, the wait for the join is abandoned: left alone, its timer would
    // reject it later with nobody listening (an unhandled rejection in whatever runs then).
    const abandon = new AbortController();
    try {
      const joined = joinedGroup(consumer, Math.max(0, deadline - Date.now()), abandon.signal, (assignment) => {
        // Partitions with no committed position start where their end was before we joined, so nothing
        // published after subscribe() resolves can be skipped (kafkajs would take the end at first fetch).
        for (const [topic, partitions] of Object.entries(assignment)) {
          for (const partition of partitions) {
            const offset = pins.get(`${topic}:${partition}`);
            if (offset !== undefined) consumer.seek({ topic, partition, offset });
          }
        }
      });
      await consumer.connect();
      await consumer.subscribe({ topics: names, fromBeginning });
      await consumer.run({
        autoCommit: !isPrivate,
        partitionsConsumedConcurrently: 1,
        eachMessage: async ({ topic, partition, message }) => handler(toReceived(topic, partition, message)),
      });
      await joined;
      return subscription;
    } catch (error) {
      abandon.abort();
      await subscription.stop().catch(() => undefined);
      throw error;
    }
  }

  async ensureTopics(topics: readonly MeshTopic[]): Promise<void> {
    this.assertOpen();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    const admin = await this.connectedAdmin();
    const existing = new Set(await retrying(() => admin.listTopics(), deadline));
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      try {
        await retrying(() => admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: this.options.replicationFactor,
            configEntries: [
              ...(t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
              ...(t.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(t.retentionMs) }] : []),
            ],
          })),
        }), deadline);
      } catch (error) {
        // Another process created some of them at the same moment: fine, the check below decides.
        if (!errorTypes(error).includes('TOPIC_ALREADY_EXISTS')) throw error;
      }
    }
    const { topics: metadata } = await retrying(() => admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) }), deadline);
    for (const spec of topics) {
      const found = metadata.find((m) => m.name === spec.name);
      if (!found) throw new MeshUnknownTopicError(spec.name);
      if (found.partitions.length !== spec.partitions) {
        throw new MeshTopicMismatchError(spec.name, `${found.partitions.length} partitions, not ${spec.partitions}`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await Promise.allSettled([
      producer?.then((p) => p.disconnect()),
      admin?.then((a) => a.disconnect()),
    ]);
  }

  /** For each partition without a committed position, the end offset now (what "start at the end" means). */
  private async endPositions(admin: Admin, groupId: string, topics: string[], isPrivate: boolean): Promise<Map<string, string>> {
    const committed = new Set<string>();
    if (!isPrivate) {
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
        for (const p of partitions) if (p.offset !== '-1') committed.add(`${topic}:${p.partition}`);
      }
    }
    const pins = new Map<string, string>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const id = `${topic}:${p.partition}`;
        if (!committed.has(id)) pins.set(id, p.high);
      }
    }
    return pins;
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded, unlike kafkajs' default for idempotent producers, so an unavailable broker rejects publish
        // within publishTimeoutMs; publish itself retries around this.
        retry: CLIENT_RETRY,
      });
      const connecting = producer.connect().then(() => producer);
      connecting.catch(() => {
        if (this.producer === connecting) this.producer = null;
      });
      this.producer = connecting;
    }
    return this.producer;
  }

  private async resetProducer(): Promise<void> {
    const old = this.producer;
    this.producer = null;
    await old?.then((p) => p.disconnect()).catch(() => undefined);
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: CLIENT_RETRY });
      const connecting = admin.connect().then(() => admin);
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = null;
      });
      this.admin = connecting;
    }
    return this.admin;
  }

  private async topicExists(topic: string): Promise<boolean> {
    const admin = await this.connectedAdmin();
    return (await admin.listTopics()).includes(topic);
  }

  private assertOpen(): void {
    if (this.closed) throw new MeshClosedError();
  }
}

class KafkaSubscription implements MeshSubscription {
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly onStopped: () => void,
  ) {}

  stop(): Promise<void> {
    // disconnect() lets the message in progress finish, commits what was handled and leaves the group.
    this.stopping ??= this.consumer.disconnect().finally(this.onStopped);
    return this.stopping;
  }
}

/**
 * Resolves on the consumer's first group join, after `onFirstJoin` ran inside the join event (before the
 * first fetch, so seeks made there apply to it). Rejects on a crash kafkajs will not restart, or on timeout.
 */
function joinedGroup(
  consumer: Consumer,
  timeoutMs: number,
  abandoned: AbortSignal,
  onFirstJoin: (assignment: Record<string, number[]>) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      removeJoin();
      removeCrash();
      abandoned.removeEventListener('abort', onAbandoned);
      if (error) reject(error);
      else resolve();
    };
    // Settles quietly: the caller has already failed for another reason and no longer waits.
    const onAbandoned = () => finish();
    abandoned.addEventListener('abort', onAbandoned, { once: true });
    const timer = setTimeout(() => finish(new Error(`mesh subscription did not join its group within ${timeoutMs} ms`)), timeoutMs);
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (done) return;
      try {
        onFirstJoin(event.payload.memberAssignment);
        finish();
      } catch (error) {
        finish(error);
      }
    });
    const removeCrash = consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) finish(event.payload.error);
    });
  });
}

/** Splits records into runs whose estimated request size stays under `maxBytes` (a larger record goes alone). */
export function boundedChunks<R extends { key: string; value: Buffer | string; headers: Record<string, string> }>(records: R[], maxBytes: number): R[][] {
  const sizeOf = (r: R) => {
    let size = RECORD_OVERHEAD_BYTES + Buffer.byteLength(r.key) + (typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length);
    for (const [name, value] of Object.entries(r.headers)) size += Buffer.byteLength(name) + Buffer.byteLength(value);
    return size;
  };
  const chunks: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf(record);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Kafka's record framing (varint lengths, offsets, timestamps, attributes), generously. */
const RECORD_OVERHEAD_BYTES = 64;

function toReceived(topic: string, partition: number, message: KafkaMessage): ReceivedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: decodeHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

function decodeHeaders(headers: IHeaders | undefined): MeshHeaders {
  const decoded: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) decoded[name] = value.toString();
  }
  return decoded;
}

/** Protocol error types along an error's cause chain (kafkajs wraps the broker's error when retries run out). */
function errorTypes(error: unknown): string[] {
  const types: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (!e || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const candidate = e as { type?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown };
    if (typeof candidate.type === 'string') types.push(candidate.type);
    visit(candidate.originalError);
    visit(candidate.cause);
    if (Array.isArray(candidate.errors)) candidate.errors.forEach(visit);
  };
  visit(error);
  return types;
}

/**
 * Runs an admin call again while it fails with an error kafkajs marks retriable (a coordinator still loading
 * after a broker start, a leader moving, a connection refused), until `deadline`.
 */
async function retrying<T>(call: () => Promise<T>, deadline: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true || (error as Error).name === 'KafkaJSConnectionError';
      if (!retriable || Date.now() >= deadline) throw error;
      await sleep(Math.min(100 * 2 ** attempt, 1_000, Math.max(0, deadline - Date.now())));
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const consoleLogger: MeshLogger = {
  error: (context, message) => console.error(message, context),
  warn: (context, message) => console.warn(message, context),
  info: () => undefined,
  debug: () => undefined,
};

function logCreatorFor(logger: MeshLogger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...context } = log;
      // Expected here: publish bounds the producer's retries on purpose and adds its own around them.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      const entry = { component: 'kafkajs', namespace, ...context };
      if (level === logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else if (level === logLevel.INFO) logger.info(entry, message);
      else logger.debug(entry, message);
    };
}
