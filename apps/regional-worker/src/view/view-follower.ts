import type { Logger } from 'pino';
import type { Mesh, MeshSubscription, ReceivedMessage } from '@cmk/mesh';
import { decodeMessage, OrbitalDecodeError, RevocationMessage, TenantViewStore } from '@cmk/orbital';
import { CatchUpTracker } from './catch-up';
import type { EndOffsets } from './end-offsets';
import type { HeartbeatClock } from './heartbeat-clock';
import type { WorkerTopics } from './topics';

export interface ViewFollowerDeps {
  mesh: Mesh;
  endOffsets: EndOffsets;
  topics: WorkerTopics;
  store: TenantViewStore;
  heartbeat: HeartbeatClock;
  log: Logger;
  /** A state message changed the tenant's view (cached keys of links no longer usable must go). */
  onStateApplied(tenantId: string): void;
  onRevocation(message: RevocationMessage): void;
  /** A message that cannot be decoded: counted and skipped (no retry can fix it). */
  onRejected(topic: string, error: Error): void;
}

/**
 * Keeps the view store current. Start: subscribe to the live lanes (region deltas, revocations, heartbeat)
 * from their end; then read the end offsets of the state topic and the revocation lane; then read both from
 * the beginning. Anything published before the ends were read is below them; anything after the live
 * subscription started arrives on the live lanes; the overlap is dropped by position. Ready once every
 * partition has been read to its end; the bootstrap subscription then stops.
 *
 * The revocation lane is re-read at bootstrap because a revocation can be published before the state message
 * of the same event: a worker (re)starting in between would otherwise serve the link until that state
 * arrives. Revocations the state already reflects are superseded and change nothing.
 *
 * The three live lanes share one subscription on purpose: a heartbeat handled means that consumer (which also
 * delivers revocations and deltas) was alive and not stuck. A handler failure other than an undecodable
 * message is thrown back to the mesh, which redelivers and holds the lane: heartbeats stop with it, and the
 * worker fails closed instead of skipping a revocation.
 */
export class ViewFollower {
  private live?: MeshSubscription;
  private bootstrap?: MeshSubscription;
  private stopped = false;
  private abortBootstrap?: (error: Error) => void;

  constructor(private readonly deps: ViewFollowerDeps) {}

  async start(): Promise<void> {
    const { mesh, topics, log, store } = this.deps;
    this.live = await mesh.subscribe([topics.deltas, topics.revocations, topics.heartbeat], { fromBeginning: false }, (m) => this.onLive(m));
    const bootstrapTopics = [topics.state, topics.revocations];
    const ends = new Map(await Promise.all(bootstrapTopics.map(async (t) => [t, await this.deps.endOffsets.read(t)] as const)));
    const tracker = new CatchUpTracker(ends);
    const started = Date.now();
    let handled = 0;
    if (!tracker.caughtUp) {
      let reached!: () => void;
      const caughtUp = new Promise<void>((resolve, reject) => {
        reached = resolve;
        this.abortBootstrap = reject;
      });
      this.bootstrap = await mesh.subscribe(bootstrapTopics, { fromBeginning: true }, async (message) => {
        handled++;
        if (message.topic === topics.state) this.applyState(message);
        else this.applyRevocation(message);
        if (tracker.handled(message.topic, message.partition, message.offset)) reached();
      });
      if (this.stopped) {
        await this.bootstrap.stop();
        throw new Error('the worker stopped before it caught up with the state topic');
      }
      await caughtUp;
    }
    store.markReady();
    log.info({ bootstrapMessages: handled, tenants: store.servedTenants, ms: Date.now() - started }, 'caught up with the state topic and the revocation lane: ready');
    const bootstrap = this.bootstrap;
    this.bootstrap = undefined;
    await bootstrap?.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abortBootstrap?.(new Error('the worker stopped before it caught up with the state topic'));
    await Promise.all([this.live?.stop(), this.bootstrap?.stop()]);
  }

  private async onLive(message: ReceivedMessage): Promise<void> {
    const { topics } = this.deps;
    if (message.topic === topics.deltas) return this.applyState(message);
    if (message.topic === topics.revocations) return this.applyRevocation(message);
    try {
      this.deps.heartbeat.heard(decodeMessage(message.value, 'heartbeat'));
    } catch (error) {
      if (!(error instanceof OrbitalDecodeError)) throw error;
      this.deps.onRejected(message.topic, error);
    }
  }

  private applyRevocation(message: ReceivedMessage): void {
    try {
      this.deps.onRevocation(decodeMessage(message.value, 'revocation'));
    } catch (error) {
      if (!(error instanceof OrbitalDecodeError)) throw error;
      this.deps.onRejected(message.topic, error);
    }
  }

  private applyState(message: ReceivedMessage): void {
    try {
      const state = decodeMessage(message.value, 'tenant-state');
      if (this.deps.store.applyState(state) === 'applied') this.deps.onStateApplied(state.tenantId);
    } catch (error) {
      if (!(error instanceof OrbitalDecodeError)) throw error;
      this.deps.onRejected(message.topic, error);
    }
  }
}
