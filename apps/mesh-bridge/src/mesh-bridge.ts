import { setMaxListeners } from 'node:events';
import type { EventStore, Position, RecordedEvent, Subscription } from '@cmk/event-store';
import type { Mesh, MeshLogger, MeshMessage, MeshSubscription } from '@cmk/mesh';
import { encodeMessage, HeartbeatMessage, TENANT_VIEW_CATEGORIES } from '@cmk/orbital';
import type { Registry } from 'prom-client';
import { BridgeFold } from './bridge-fold';
import { BridgeMetrics, createBridgeMetrics } from './bridge-metrics';
import { CheckpointKeeper } from './checkpoint-keeper';
import { DispatchRecorder } from './dispatch-recorder';
import { claimEpoch } from './epoch';
import { AccessDenialsRecorder } from './access-denials';
import { FeedbackRecorder } from './feedback';
import { WorkerStatusRecorder } from './worker-status';
import { BridgeStoppingError, describeError, retryUntilDone, sleep } from './retry';
import { BridgeTopics, bridgeTopics, topicSpecs } from './topics';

export interface MeshBridgeOptions {
  /** Regions that get a delta topic (CMK_REGIONS). */
  regions: readonly string[];
  /** Prepended to every topic and consumer group name. Default ''. */
  topicPrefix?: string;
  /** Partitions of the keyed topics created at start. Default 6. */
  partitions?: number;
  /** Checkpoint name; the epoch is kept beside it as `<name>.epoch`. Default 'mesh-bridge'. */
  consumerName?: string;
  heartbeatMs?: number;
  /** Events per subscription batch. Default 500. */
  batchSize?: number;
  /** How long stop() lets queued RevocationDispatched records land. Default 2 s. */
  stopGraceMs?: number;
  /** A worker is recorded silent after this many of its report intervals without a report (and at least
   *  `workerSilenceMinMs`). Defaults 3 and 5 s. */
  workerSilenceIntervals?: number;
  workerSilenceMinMs?: number;
}

export interface MeshBridgeDeps {
  store: EventStore;
  mesh: Mesh;
  /**
   * The revocation lane's own connection (on Kafka: its own idempotent producer), so a revocation never queues
   * behind view messages in a shared producer. Default: `mesh`. The host closes it.
   */
  revocationMesh?: Mesh;
  logger?: MeshLogger;
  /** Registers the bridge's metrics here (default: a registry of its own, see metricsText). */
  registry?: Registry;
  /** The bridge cannot go on (another instance moved its checkpoint, or a fault); the host should restart it. */
  onFatal?: (error: Error) => void;
}

export interface BridgeHealth {
  /** False once the bridge failed for good. */
  live: boolean;
  /** Caught up with the event store, and both the store and the mesh answer: heartbeats flow. */
  ready: boolean;
  state: BridgeState;
  epoch: number;
  checkpoint: string | null;
  published: string;
  caughtUp: boolean;
  meshOk: boolean;
  storeOk: boolean;
  pendingDispatches: number;
  error?: string;
}

type BridgeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const LAG_CAP = 1000;
/** View batches published ahead of their acknowledgements before the subscription waits. */
const MAX_VIEW_BATCHES_IN_FLIGHT = 8;
const CATCH_UP_PROBE_MS = 1000;
const silent: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/**
 * Event store ──▶ Orbital topics, and acks, usage and L2 key registrations ──▶ event store.
 *
 * At start it rebuilds its world by folding the event store up to its checkpoint (publishing nothing: that was
 * published before), then subscribes after the checkpoint. Per batch it publishes revocations first, then one
 * view per changed tenant to the compacted state topic and to the region topics the tenant is (or was) served
 * in, each awaited before the next batch so per-tenant order holds. The checkpoint moves only after the mesh
 * acknowledged (see CheckpointKeeper), so a crash re-sends and never loses; consumers drop re-sends by position.
 *
 * Exactly one instance should run per checkpoint name. A second one is noticed when its checkpoint move fails
 * (compare-and-set) and stops with onFatal; until then both publish the same messages, which is harmless.
 * The bridge borrows the store and the mesh: their owner closes them after stop().
 */
export class MeshBridge {
  readonly topics: BridgeTopics;
  readonly metrics: BridgeMetrics;
  private readonly options: Required<MeshBridgeOptions>;
  private readonly logger: MeshLogger;
  private readonly fold: BridgeFold;
  private readonly stopping = new AbortController();
  private state: BridgeState = 'new';
  private failure: Error | undefined;
  private epoch = 0;
  private keeper!: CheckpointKeeper;
  private dispatcher!: DispatchRecorder;
  private subscription: Subscription | undefined;
  private feedbackSubscriptions: MeshSubscription[] = [];
  private background: Promise<unknown>[] = [];
  /** Position of the last event folded into the world. */
  private folded: Position = 0n;
  private caughtUp = false;
  private meshOk = true;
  private storeOk = true;

  constructor(
    private readonly deps: MeshBridgeDeps,
    options: MeshBridgeOptions,
  ) {
    this.options = {
      topicPrefix: '',
      partitions: 6,
      consumerName: 'mesh-bridge',
      heartbeatMs: 200,
      batchSize: 500,
      stopGraceMs: 2_000,
      workerSilenceIntervals: 3,
      workerSilenceMinMs: 5_000,
      ...options,
      regions: [...options.regions],
    };
    if (this.options.regions.length === 0) throw new Error('MeshBridge needs at least one region');
    this.logger = deps.logger ?? silent;
    this.topics = bridgeTopics(this.options.topicPrefix, this.options.regions);
    this.fold = new BridgeFold(this.options.regions, this.topics);
    this.metrics = createBridgeMetrics(deps.registry);
    // Every retrying append (one per worker reporting, per ack...) waits on this signal while it backs off.
    setMaxListeners(10_000, this.stopping.signal);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`MeshBridge cannot start: it is ${this.state}`);
    this.state = 'starting';
    const { store, mesh } = this.deps;
    try {
      await mesh.ensureTopics(topicSpecs(this.topics, this.options.partitions));
      this.epoch = await claimEpoch(store.checkpoints, this.options.consumerName);
      const checkpoint = await store.checkpoints.get(this.options.consumerName);
      this.keeper = new CheckpointKeeper(store.checkpoints, this.options.consumerName, checkpoint, this.logger, (e) => this.fail(e));
      this.dispatcher = new DispatchRecorder(store, this.keeper, this.logger, () => this.ownMetadata(), () => this.metrics.dispatchesRecorded.inc());
      const started = Date.now();
      const replayed = await this.rebuild(checkpoint ?? 0n);
      this.logger.info({ epoch: this.epoch, checkpoint: String(checkpoint), replayed, ms: Date.now() - started }, 'mesh bridge rebuilt its world');
      this.caughtUp = await this.nothingAfter(this.folded);
      if (this.stopping.signal.aborted) throw new BridgeStoppingError('starting');
      // Running before subscribing: a subscription that fails at once must find the bridge ready to resubscribe.
      this.state = 'running';
      this.subscribe();
      this.background.push(this.startFeedback(), this.heartbeatLoop());
    } catch (error) {
      // Whatever failed after stop() was asked for (a store closed under us) is the stop, not a failure.
      const stoppedMeanwhile = error instanceof BridgeStoppingError || this.stopping.signal.aborted;
      this.state = stoppedMeanwhile ? 'stopped' : 'failed';
      if (!stoppedMeanwhile) this.failure = error as Error;
      await this.halt();
      throw error;
    }
  }

  /** Stops publishing and consuming, lets queued records land briefly, moves the checkpoint a last time. */
  async stop(): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'stopped' || this.state === 'stopping') return;
    if (this.state !== 'failed') this.state = 'stopping';
    await this.halt();
    if (this.state === 'stopping') this.state = 'stopped';
  }

  health(): BridgeHealth {
    const running = this.state === 'running';
    return {
      live: this.failure === undefined,
      ready: this.isReady(),
      state: this.state,
      epoch: this.epoch,
      checkpoint: this.keeper?.position?.toString() ?? null,
      published: (this.keeper?.publishedPosition ?? 0n).toString(),
      caughtUp: running && this.caughtUp,
      meshOk: this.meshOk,
      storeOk: this.storeOk,
      pendingDispatches: this.dispatcher?.pending ?? 0,
      ...(this.failure ? { error: this.failure.message } : {}),
    };
  }

  /** Prometheus text of the bridge's registry (with the checkpoint lag measured now). */
  async metricsText(): Promise<string> {
    await this.refreshGauges();
    return this.metrics.registry.metrics();
  }

  /** Brings the gauges up to date; a host that serves the bridge's metrics from its own registry calls it first. */
  async refreshGauges(): Promise<void> {
    const m = this.metrics;
    m.epoch.set(this.epoch);
    m.ready.set(this.isReady() ? 1 : 0);
    m.pendingDispatches.set(this.dispatcher?.pending ?? 0);
    if (!this.keeper) return;
    m.checkpoint.set(Number(this.keeper.position ?? 0n));
    m.published.set(Number(this.keeper.publishedPosition));
    const lag = await this.deps.store
      .readAll({ after: this.keeper.position ?? 0n, maxCount: LAG_CAP, filter: { categories: [...TENANT_VIEW_CATEGORIES] } })
      .then((events) => events.length)
      .catch(() => undefined);
    if (lag !== undefined) m.checkpointLag.set(lag);
  }

  /** Folds what was published before the checkpoint, page by page, sending nothing. */
  private async rebuild(checkpoint: Position): Promise<number> {
    let after = 0n;
    let count = 0;
    while (after < checkpoint) {
      const page = await this.deps.store.readAll({ after, maxCount: 2000, filter: { categories: [...TENANT_VIEW_CATEGORIES] } });
      const upTo = page.filter((e) => e.position <= checkpoint);
      this.fold.replay(upTo);
      count += upTo.length;
      if (upTo.length < page.length || page.length < 2000) break;
      after = page[page.length - 1].position;
    }
    this.fold.settle();
    this.folded = checkpoint;
    return count;
  }

  private subscribe(): void {
    const subscription = this.deps.store.subscribeAll(this.onBatch, {
      after: this.folded,
      filter: { categories: [...TENANT_VIEW_CATEGORIES] },
      batchSize: this.options.batchSize,
    });
    this.subscription = subscription;
    subscription.done.then(
      () => this.onSubscriptionEnded(undefined),
      (error) => this.onSubscriptionEnded(error),
    );
  }

  /**
   * A read failure (the database went away) ends the subscription between batches: the world is complete up to
   * `folded`, so subscribing again after it misses and repeats nothing. Any other end is fatal or a stop.
   */
  private onSubscriptionEnded(error: unknown): void {
    if (this.state !== 'running' || this.failure) return;
    if (error instanceof BridgeStoppingError) return;
    this.storeOk = false;
    this.logger.warn({ err: describeError(error), after: String(this.folded) }, 'event store subscription ended; resubscribing');
    const again = retryUntilDone(() => this.deps.store.ping(), { what: 'waiting for the event store', signal: this.stopping.signal })
      .then(() => {
        if (this.state !== 'running') return;
        this.storeOk = true;
        this.subscribe();
      })
      .catch(() => undefined);
    this.background.push(again);
  }

  private readonly onBatch = async (events: RecordedEvent[]): Promise<void> => {
    if (this.stopping.signal.aborted) throw new BridgeStoppingError('handling a batch');
    let plan;
    try {
      plan = this.fold.plan(events);
    } catch (error) {
      // A half-folded batch cannot be resumed consistently: stop, and let a restart rebuild from the checkpoint.
      this.fail(error as Error);
      throw error;
    }
    this.folded = plan.last;
    this.metrics.foldedEvents.inc(events.length);
    // The kill switch first: a revocation never waits behind views, neither of this batch nor of earlier ones
    // still in flight (the views lane below), and goes through its own connection when the host gave one.
    await this.publish(this.topics.revocations, plan.revocations, 'revocation', this.deps.revocationMesh);
    // Views follow in their own lane, batch after batch in order (per-tenant order on every topic holds), so
    // the next batch's revocations need not wait for these acknowledgements. The checkpoint moves only when a
    // batch's views are acknowledged too, in batch order, so a crash still re-sends everything unacknowledged.
    const views = this.viewsLane.then(async () => {
      await Promise.all([
        this.publish(this.topics.state, plan.state, 'state'),
        ...[...plan.deltas].map(([topic, messages]) => this.publish(topic, messages, 'delta')),
      ]);
      this.dispatcher.enqueue(plan.dispatches);
      this.keeper.markPublished(plan.last);
      if (events.length < this.options.batchSize) this.caughtUp = true;
    });
    this.viewsLane = views;
    this.viewsInFlight++;
    void views.then(
      () => this.viewsInFlight--,
      () => this.viewsInFlight--,
    );
    // Bounded: past a few batches, the subscription waits (and surfaces a failed lane as this batch's failure).
    if (this.viewsInFlight > MAX_VIEW_BATCHES_IN_FLIGHT) await views;
  };

  private viewsLane: Promise<void> = Promise.resolve();
  private viewsInFlight = 0;

  /** Retries until the mesh acknowledges: the checkpoint cannot move past these events before it does. */
  private async publish(topic: string, messages: MeshMessage[], kind: string, mesh: Mesh = this.deps.mesh): Promise<void> {
    if (messages.length === 0) return;
    await retryUntilDone(() => mesh.publish(topic, messages), {
      what: `publishing to ${topic}`,
      signal: this.stopping.signal,
      onError: (error, attempt) => {
        this.meshOk = false;
        this.metrics.publishFailures.inc();
        this.logger.warn({ err: describeError(error), topic, attempt }, 'publish failed; retrying');
      },
    });
    this.meshOk = true;
    this.metrics.publishedMessages.inc({ kind }, messages.length);
  }

  /** Metadata of what the bridge records on a worker's behalf (acks, usage, L2 keys, status, denials). */
  private readonly workerMetadata = (actor: string, occurredAt: string, commandId: string): Record<string, unknown> => ({
    actor: { subject: actor, roles: ['regional-worker'] },
    commandId,
    correlationId: commandId,
    causationId: commandId,
    occurredAt,
    schemaVersion: 1,
    recordedBy: `${this.options.consumerName}#${this.epoch}`,
  });

  private async startFeedback(): Promise<void> {
    const feedback = new FeedbackRecorder(
      this.deps.store,
      this.logger,
      this.stopping.signal,
      this.workerMetadata,
      (kind, outcome) => this.metrics.feedback.inc({ kind, outcome }),
    );
    const workerStatus = new WorkerStatusRecorder(
      this.deps.store,
      this.logger,
      this.stopping.signal,
      this.workerMetadata,
      (outcome) => this.metrics.feedback.inc({ kind: 'worker-status', outcome }),
      { silentAfterIntervals: this.options.workerSilenceIntervals, minSilenceMs: this.options.workerSilenceMinMs },
    );
    try {
      await retryUntilDone(() => workerStatus.load(), {
        what: 'loading recorded worker statuses',
        signal: this.stopping.signal,
        onError: (error) => this.logger.warn({ err: describeError(error) }, 'loading recorded worker statuses failed; retrying'),
      });
    } catch (error) {
      if (!(error instanceof BridgeStoppingError)) throw error;
      return;
    }
    this.background.push(this.silenceLoop(workerStatus));
    const denials = new AccessDenialsRecorder(
      this.deps.store,
      this.logger,
      this.stopping.signal,
      this.workerMetadata,
      (outcome) => this.metrics.feedback.inc({ kind: 'access-denials', outcome }),
    );
    const group = (name: string) => `${this.options.topicPrefix}${this.options.consumerName}-${name}`;
    for (const [topic, name, handler] of [
      [this.topics.acks, 'acks', feedback.onAck],
      [this.topics.usage, 'usage', feedback.onUsage],
      [this.topics.tenantKeys, 'tenant-keys', feedback.onTenantKey],
      [this.topics.workerStatus, 'worker-status', workerStatus.onStatus],
      [this.topics.accessDecisions, 'access-decisions', denials.onReport],
    ] as const) {
      try {
        const subscription = await retryUntilDone(
          // fromBeginning: a group that has never committed reads every ack still kept; recording is idempotent.
          () => this.deps.mesh.subscribe(topic, { groupId: group(name), fromBeginning: true }, handler),
          {
            what: `subscribing to ${topic}`,
            signal: this.stopping.signal,
            onError: (error) => this.logger.warn({ err: describeError(error), topic }, 'subscribing failed; retrying'),
          },
        );
        if (this.stopping.signal.aborted) await subscription.stop();
        else this.feedbackSubscriptions.push(subscription);
      } catch (error) {
        if (!(error instanceof BridgeStoppingError)) throw error;
        return;
      }
    }
  }

  /** Notices workers that stopped reporting without saying they stop (crashed, cut off). */
  private async silenceLoop(recorder: WorkerStatusRecorder): Promise<void> {
    const every = Math.max(100, Math.min(1_000, this.options.workerSilenceMinMs / 2));
    while (!this.stopping.signal.aborted) {
      await sleep(every, this.stopping.signal).catch(() => undefined);
      if (this.stopping.signal.aborted) return;
      await recorder.checkSilence().catch((error) => {
        if (!(error instanceof BridgeStoppingError)) this.logger.warn({ err: describeError(error) }, 'checking worker silence failed');
      });
    }
  }

  /**
   * Heartbeats only while ready: a bridge that is behind, or cut off from the store or the mesh, goes silent,
   * so workers fail closed after their staleness bound instead of trusting a view that may miss a revocation.
   */
  private async heartbeatLoop(): Promise<void> {
    let lastProbe = 0;
    while (!this.stopping.signal.aborted) {
      const started = Date.now();
      if (this.state === 'running' && !this.caughtUp && started - lastProbe >= CATCH_UP_PROBE_MS) {
        // The subscription says "caught up" only with a short batch; after an exactly full last batch, ask.
        lastProbe = started;
        if (await this.nothingAfter(this.folded).catch(() => false)) this.caughtUp = true;
      }
      if (this.isReady()) await this.sendHeartbeat();
      await sleep(Math.max(0, this.options.heartbeatMs - (Date.now() - started)), this.stopping.signal);
    }
  }

  private async sendHeartbeat(): Promise<void> {
    const heartbeat: HeartbeatMessage = {
      kind: 'heartbeat',
      epoch: this.epoch,
      position: this.keeper.publishedPosition.toString(),
      sentAt: new Date().toISOString(),
    };
    try {
      await this.deps.mesh.publish(this.topics.heartbeat, [{ key: 'bridge', value: encodeMessage(heartbeat) }]);
      this.metrics.publishedMessages.inc({ kind: 'heartbeat' });
    } catch (error) {
      this.meshOk = false;
      this.logger.warn({ err: describeError(error) }, 'heartbeat publish failed');
    }
  }

  private isReady(): boolean {
    return this.state === 'running' && this.caughtUp && this.meshOk && this.storeOk;
  }

  private async nothingAfter(position: Position): Promise<boolean> {
    const next = await this.deps.store.readAll({ after: position, maxCount: 1, filter: { categories: [...TENANT_VIEW_CATEGORIES] } });
    return next.length === 0;
  }

  private ownMetadata(): Record<string, unknown> {
    return {
      actor: { subject: this.options.consumerName, roles: ['mesh-bridge'] },
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
      recordedBy: `${this.options.consumerName}#${this.epoch}`,
    };
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.state = 'failed';
    this.logger.error({ err: describeError(error) }, 'mesh bridge failed; it stops publishing');
    void this.halt().finally(() => this.deps.onFatal?.(error));
  }

  private halting: Promise<void> | undefined;

  private halt(): Promise<void> {
    this.halting ??= (async () => {
      this.stopping.abort();
      await this.subscription?.stop().catch(() => undefined);
      await this.viewsLane.catch(() => undefined);
      await Promise.allSettled(this.background);
      await Promise.allSettled(this.feedbackSubscriptions.map((s) => s.stop()));
      await this.dispatcher?.stop(this.options.stopGraceMs);
      await this.keeper?.close();
    })();
    return this.halting;
  }
}
