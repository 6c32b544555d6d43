import { setImmediate as yieldToIo } from 'node:timers/promises';
import { MeshClosedError, MeshTopicMismatchError, MeshUnknownTopicError } from '../mesh.errors';
import type {
  Mesh,
  MeshHandler,
  MeshMessage,
  MeshSubscription,
  MeshTopic,
  ReceivedMessage,
  SubscribeOptions,
} from '../mesh.port';
import { partitionForKey } from './key-partitioner';
import { PartitionLog, type StoredRecord } from './partition-log';

export interface InProcessMeshOptions {
  /** First pause before a failed handler gets its message again; doubles up to `maxRedeliveryDelayMs`. */
  redeliveryDelayMs?: number;
  maxRedeliveryDelayMs?: number;
  /** Told about handler failures (the message is delivered again). Pino's `logger.warn` fits. */
  onHandlerError?: (error: unknown, message: ReceivedMessage) => void;
}

interface TopicState {
  readonly spec: MeshTopic;
  readonly logs: PartitionLog[];
}

/** Partitions of every topic are named `topic:partition` below. */
type PartitionId = string;
const partitionId = (topic: string, partition: number): PartitionId => `${topic}:${partition}`;

/** Yield to timers and I/O every so many deliveries, so a long backlog cannot starve the process. */
const YIELD_EVERY = 64;

/**
 * The mesh in memory, for the embedded mode and for tests: the same semantics as the Kafka adapter (partitions
 * chosen by Kafka's key hash, offsets, consumer groups that share partitions and resume from committed offsets,
 * fromBeginning, compacted topics) without a broker. Nothing survives the process.
 */
export class InProcessMesh implements Mesh {
  private readonly topics = new Map<string, TopicState>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly subscriptions = new Set<InProcessSubscription>();
  private closed = false;

  constructor(private readonly options: InProcessMeshOptions = {}) {}

  async ensureTopics(topics: readonly MeshTopic[]): Promise<void> {
    this.assertOpen();
    for (const spec of topics) {
      if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
        throw new Error(`mesh topic "${spec.name}": partitions must be a positive integer, got ${spec.partitions}`);
      }
      const existing = this.topics.get(spec.name);
      if (existing) {
        if (existing.logs.length !== spec.partitions) {
          throw new MeshTopicMismatchError(spec.name, `${existing.logs.length} partitions, not ${spec.partitions}`);
        }
        continue;
      }
      const logs = Array.from({ length: spec.partitions }, () => new PartitionLog(!!spec.compacted, spec.retentionMs));
      this.topics.set(spec.name, { spec: { ...spec }, logs });
    }
  }

  async publish(topic: string, messages: readonly MeshMessage[]): Promise<void> {
    this.assertOpen();
    const state = this.topicState(topic);
    const timestamp = Date.now();
    for (const message of messages) {
      const partition = partitionForKey(message.key, state.logs.length);
      const value = Buffer.from(message.value);
      state.logs[partition].append(message.key, value, { ...(message.headers ?? {}) }, timestamp);
    }
    for (const subscription of this.subscriptions) subscription.notify(topic);
  }

  async subscribe(
    topics: string | readonly string[],
    options: string | SubscribeOptions,
    handler: MeshHandler,
  ): Promise<MeshSubscription> {
    this.assertOpen();
    const names = typeof topics === 'string' ? [topics] : [...topics];
    const { groupId, fromBeginning = false } = typeof options === 'string' ? { groupId: options } : options;
    for (const name of names) this.topicState(name);

    const group = groupId === undefined ? new ConsumerGroup(null) : this.group(groupId);
    // Fix the start of every partition that has no committed position yet, so messages published after
    // subscribe() resolves are never skipped, and a group that stops before handling anything resumes here.
    for (const name of names) {
      this.topicState(name).logs.forEach((log, partition) => {
        const id = partitionId(name, partition);
        if (group.committed.has(id)) return;
        group.committed.set(id, fromBeginning ? log.startOffset : log.endOffset);
      });
    }

    const subscription = new InProcessSubscription(names, group, handler, this, this.options, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    group.join(subscription, (name) => this.topicState(name).logs.length);
    subscription.start();
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }

  /** @internal the record a subscription reads next in one partition. */
  readFrom(topic: string, partition: number, offset: number): StoredRecord | undefined {
    return this.topicState(topic).logs[partition].readFrom(offset);
  }

  private group(groupId: string): ConsumerGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private topicState(topic: string): TopicState {
    const state = this.topics.get(topic);
    if (!state) throw new MeshUnknownTopicError(topic);
    return state;
  }

  private assertOpen(): void {
    if (this.closed) throw new MeshClosedError();
  }
}

/**
 * Members share a group's partitions round-robin; committed positions outlive the members. A private
 * subscription gets a group of its own (id null) that nobody else joins.
 */
class ConsumerGroup {
  readonly committed = new Map<PartitionId, number>();
  private readonly members: InProcessSubscription[] = [];
  private partitionCounts = new Map<string, number>();

  constructor(readonly id: string | null) {}

  join(member: InProcessSubscription, partitionsOf: (topic: string) => number): void {
    this.members.push(member);
    for (const topic of member.topics) this.partitionCounts.set(topic, partitionsOf(topic));
    this.rebalance();
  }

  leave(member: InProcessSubscription): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.rebalance();
  }

  commit(id: PartitionId, nextOffset: number): void {
    if (this.id !== null) this.committed.set(id, nextOffset);
  }

  private rebalance(): void {
    const assignments = new Map<InProcessSubscription, PartitionId[]>(this.members.map((m) => [m, []]));
    for (const [topic, count] of this.partitionCounts) {
      const interested = this.members.filter((m) => m.topics.includes(topic));
      if (interested.length === 0) continue;
      for (let partition = 0; partition < count; partition++) {
        assignments.get(interested[partition % interested.length])!.push(partitionId(topic, partition));
      }
    }
    for (const [member, partitions] of assignments) member.assign(partitions);
  }
}

class InProcessSubscription implements MeshSubscription {
  private assigned: PartitionId[] = [];
  private readonly positions = new Map<PartitionId, number>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private pending = false;
  private cursor = 0;

  constructor(
    readonly topics: readonly string[],
    private readonly group: ConsumerGroup,
    private readonly handler: MeshHandler,
    private readonly mesh: InProcessMesh,
    private readonly options: InProcessMeshOptions,
    private readonly onStopped: () => void,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Takes over partitions from their committed position (a partition kept keeps its own position). */
  assign(partitions: PartitionId[]): void {
    const kept = new Set(partitions);
    for (const id of this.positions.keys()) if (!kept.has(id)) this.positions.delete(id);
    for (const id of partitions) {
      if (!this.positions.has(id)) this.positions.set(id, this.group.committed.get(id) ?? 0);
    }
    this.assigned = partitions;
    this.signal();
  }

  notify(topic: string): void {
    if (this.topics.includes(topic)) this.signal();
  }

  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.signal();
    await this.loop;
    this.group.leave(this);
    this.onStopped();
  }

  private signal(): void {
    this.pending = true;
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async run(): Promise<void> {
    let delivered = 0;
    while (this.running) {
      const next = this.next();
      if (!next) {
        await this.idle();
        continue;
      }
      const handled = await this.deliver(next.id, next.topic, next.partition, next.record);
      if (!handled) continue;
      if (++delivered % YIELD_EVERY === 0) await yieldToIo();
    }
  }

  /** Delivers one record until the handler accepts it (or the subscription stops or loses the partition). */
  private async deliver(id: PartitionId, topic: string, partition: number, record: StoredRecord): Promise<boolean> {
    let delay = this.options.redeliveryDelayMs ?? 50;
    const maxDelay = this.options.maxRedeliveryDelayMs ?? 2000;
    for (;;) {
      const message: ReceivedMessage = {
        topic,
        partition,
        offset: String(record.offset),
        key: record.key,
        value: Buffer.from(record.value),
        headers: { ...record.headers },
        timestamp: record.timestamp,
      };
      try {
        await this.handler(message);
      } catch (error) {
        this.options.onHandlerError?.(error, message);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, maxDelay);
        if (!this.running || !this.positions.has(id)) return false;
        continue;
      }
      // A partition taken away meanwhile belongs to another member now: its position is not ours to move.
      if (!this.positions.has(id)) return false;
      this.positions.set(id, record.offset + 1);
      this.group.commit(id, record.offset + 1);
      return true;
    }
  }

  /** The next record of an assigned partition, taking partitions in turn so none starves. */
  private next(): { id: PartitionId; topic: string; partition: number; record: StoredRecord } | undefined {
    this.pending = false;
    const count = this.assigned.length;
    for (let i = 0; i < count; i++) {
      const id = this.assigned[(this.cursor + i) % count];
      const separator = id.lastIndexOf(':');
      const topic = id.slice(0, separator);
      const partition = Number(id.slice(separator + 1));
      const record = this.mesh.readFrom(topic, partition, this.positions.get(id) ?? 0);
      if (record) {
        this.cursor = (this.cursor + i + 1) % count;
        return { id, topic, partition, record };
      }
    }
    return undefined;
  }

  private idle(): Promise<void> {
    if (this.pending || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}
