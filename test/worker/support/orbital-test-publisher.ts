import { MESH_POSITION_HEADER, Mesh } from '@cmk/mesh';
import { encodeMessage, HeartbeatMessage, OrbitalMessage, RevocationMessage, TenantStateMessage, TenantView } from '@cmk/orbital';
import { workerTopics } from '../../../apps/regional-worker/src/view/topics';

/**
 * Stands in for the mesh bridge (built in parallel): creates the Orbital topics under a prefix and publishes
 * TenantStateMessage, RevocationMessage and HeartbeatMessage as the bridge would: the state topic gets every
 * tenant, each region's delta topic the tenants it may serve plus a final `removed` view, positions increase.
 */
export class OrbitalTestPublisher {
  private position = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeating: Promise<void> = Promise.resolve();
  /** performance.now() when the last heartbeat publish was acknowledged. */
  lastHeartbeatPublishedAt = -Infinity;

  private constructor(
    readonly mesh: Mesh,
    readonly prefix: string,
    readonly regions: readonly string[],
  ) {}

  static async create(mesh: Mesh, prefix: string, regions: readonly string[], partitions = 3): Promise<OrbitalTestPublisher> {
    const t = workerTopics(regions[0], prefix);
    await mesh.ensureTopics([
      { name: t.state, partitions, compacted: true },
      { name: t.revocations, partitions },
      { name: t.heartbeat, partitions: 1 },
      { name: t.acks, partitions: 1 },
      { name: t.usage, partitions: 1 },
      ...regions.map((r) => ({ name: workerTopics(r, prefix).deltas, partitions })),
    ]);
    return new OrbitalTestPublisher(mesh, prefix, regions);
  }

  get topics() {
    return workerTopics(this.regions[0], this.prefix);
  }

  nextPosition(): number {
    return ++this.position;
  }

  /**
   * Publishes a tenant's view to the state topic and to the delta topic of every region that serves it, plus
   * a `removed` view to `removedFrom` regions. `position` defaults to the next one.
   */
  async state(view: TenantView, options: { position?: number; removedFrom?: string[]; stateTopicOnly?: boolean; removed?: boolean } = {}): Promise<number> {
    const position = options.position ?? this.nextPosition();
    const message = (removed: boolean): TenantStateMessage => ({ kind: 'tenant-state', position: String(position), tenantId: view.tenantId, removed, view });
    await this.send(this.topics.state, view.tenantId, message(options.removed ?? false));
    if (options.stateTopicOnly) return position;
    for (const region of this.regions) {
      const serves = !options.removed && (view.allowedRegions === null || view.allowedRegions.includes(region));
      if (serves) await this.send(workerTopics(region, this.prefix).deltas, view.tenantId, message(false));
      else if (options.removed || options.removedFrom?.includes(region)) await this.send(workerTopics(region, this.prefix).deltas, view.tenantId, message(true));
    }
    return position;
  }

  async revocation(input: Omit<RevocationMessage, 'kind' | 'position' | 'recordedAt'> & { position?: number }): Promise<RevocationMessage> {
    const { position = this.nextPosition(), ...rest } = input;
    const message: RevocationMessage = { kind: 'revocation', position: String(position), recordedAt: new Date().toISOString(), ...rest };
    await this.send(this.topics.revocations, input.tenantId, message);
    return message;
  }

  async heartbeat(epoch = 1): Promise<void> {
    const message: HeartbeatMessage = { kind: 'heartbeat', epoch, position: String(this.position), sentAt: new Date().toISOString() };
    await this.send(this.topics.heartbeat, 'bridge', message);
    this.lastHeartbeatPublishedAt = performance.now();
  }

  /** Publishes a heartbeat now and every `intervalMs` until {@link stopHeartbeats}. */
  async startHeartbeats(intervalMs: number, epoch = 1): Promise<void> {
    this.stopTimer();
    await this.heartbeat(epoch);
    this.heartbeatTimer = setInterval(() => {
      this.heartbeating = this.heartbeating.then(() => this.heartbeat(epoch)).catch(() => undefined);
    }, intervalMs);
  }

  /** Stops the heartbeat and waits for the one in flight, so nothing is published afterwards. */
  async stopHeartbeats(): Promise<void> {
    this.stopTimer();
    await this.heartbeating;
  }

  /** Writes raw bytes to a topic (malformed-message tests). */
  async raw(topic: string, key: string, value: string): Promise<void> {
    await this.mesh.publish(topic, [{ key, value }]);
  }

  private stopTimer(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async send(topic: string, key: string, message: OrbitalMessage & { position?: string }): Promise<void> {
    const headers = message.position !== undefined ? { [MESH_POSITION_HEADER]: message.position } : undefined;
    await this.mesh.publish(topic, [{ key, value: encodeMessage(message), ...(headers ? { headers } : {}) }]);
  }
}
