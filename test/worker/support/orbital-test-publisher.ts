import { MESH_POSITION_HEADER, Mesh, MeshSubscription, ReceivedMessage } from '@cmk/mesh';
import {
  decodeMessage,
  encodeMessage,
  HeartbeatMessage,
  OrbitalMessage,
  registerTenantKey,
  RevocationMessage,
  rewrapTenantKey,
  TenantKeyMessage,
  TenantKeyView,
  TenantStateMessage,
  TenantView,
} from '@cmk/orbital';
import { workerTopics } from '../../../apps/regional-worker/src/view/topics';

/**
 * Stands in for the mesh bridge: creates the Orbital topics under a prefix and publishes TenantStateMessage,
 * RevocationMessage and HeartbeatMessage as the bridge would: the state topic gets every tenant, each region's
 * delta topic the tenants it may serve plus a final `removed` view, positions increase. It also keeps the L2
 * key registry as the bridge's fold does (the same pure functions from @cmk/orbital: first registration per
 * version wins, re-wraps only under the link's current L1 version) and puts it into every view it publishes,
 * so workers can seal data keys without a real bridge. Suites that need the recorded events use the real bridge.
 */
export class OrbitalTestPublisher {
  private position = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeating: Promise<void> = Promise.resolve();
  /** performance.now() when the last heartbeat publish was acknowledged. */
  lastHeartbeatPublishedAt = -Infinity;
  /** Every L2 key message the workers sent, in arrival order. */
  readonly tenantKeyMessages: TenantKeyMessage[] = [];
  private readonly registry = new Map<string, readonly TenantKeyView[] | undefined>();
  private readonly lastViews = new Map<string, TenantView>();
  private registrar?: MeshSubscription;

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
      { name: t.tenantKeys, partitions },
      { name: t.workerStatus, partitions: 1 },
      { name: t.accessDecisions, partitions: 1 },
      ...regions.map((r) => ({ name: workerTopics(r, prefix).deltas, partitions })),
    ]);
    const publisher = new OrbitalTestPublisher(mesh, prefix, regions);
    publisher.registrar = await mesh.subscribe(t.tenantKeys, { fromBeginning: true }, (m) => publisher.onTenantKey(m));
    return publisher;
  }

  /** The registry the views carry for a link (what the bridge would have recorded). */
  tenantKeys(keyLinkId: string): readonly TenantKeyView[] {
    return this.registry.get(keyLinkId) ?? [];
  }

  async stop(): Promise<void> {
    await this.stopHeartbeats();
    await this.registrar?.stop();
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
    this.lastViews.set(view.tenantId, view);
    view = this.withRegistry(view);
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

  private async onTenantKey(message: ReceivedMessage): Promise<void> {
    const m = decodeMessage(message.value) as TenantKeyMessage;
    this.tenantKeyMessages.push(m);
    const before = this.registry.get(m.keyLinkId);
    const link = this.lastViews.get(m.tenantId)?.keyLinks[m.keyLinkId];
    const after =
      m.kind === 'tenant-key-generated'
        ? registerTenantKey(before, { l2Id: m.l2Id, l2Version: m.l2Version, wrappedL2: m.wrappedL2, ...(m.l1KeyVersion ? { l1KeyVersion: m.l1KeyVersion } : {}), l2Fingerprint: m.l2Fingerprint })
        : rewrapTenantKey(before, link?.l1KeyVersion, m);
    if (after === before) return;
    this.registry.set(m.keyLinkId, after);
    const view = this.lastViews.get(m.tenantId);
    if (view) await this.state(view);
  }

  /** The view with the registry of each of its links, unless the test set one itself. */
  private withRegistry(view: TenantView): TenantView {
    const keyLinks = Object.fromEntries(
      Object.entries(view.keyLinks).map(([id, link]) => {
        const keys = this.registry.get(id);
        return [id, link.tenantKeys || !keys ? link : { ...link, tenantKeys: keys }];
      }),
    );
    return { ...view, keyLinks };
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
