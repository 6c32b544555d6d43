import type { EventStore, RecordedEvent } from '@cmk/event-store';
import type { PolicyDocument } from '@cmk/policy';

const actor = { subject: 'test-operator', roles: ['platform-operator'] };

/**
 * Appends governance events straight to the event store, shaped as the control plane's deciders record them.
 * The bridge only reads the log, so this is the whole input it sees; going through the API would only be slower.
 */
export class Governance {
  constructor(private readonly store: EventStore) {}

  async append(stream: string, type: string, data: Record<string, unknown>): Promise<RecordedEvent> {
    const result = await this.store.append(stream, [{ type, data, metadata: { actor, occurredAt: new Date().toISOString(), schemaVersion: 1 } }], {
      expectedRevision: 'any',
    });
    return result.events[0];
  }

  onboard(tenantId: string, jurisdiction = 'EU', homeRegion = 'eu-central-1') {
    return this.append(`tenant-${tenantId}`, 'TenantOnboarded', {
      tenantId,
      displayName: `Tenant ${tenantId}`,
      jurisdiction,
      homeRegion,
      dataClassification: 'internal',
      contacts: [],
    });
  }
  updateHome(tenantId: string, homeRegion: string) {
    return this.append(`tenant-${tenantId}`, 'TenantUpdated', { tenantId, changes: { homeRegion } });
  }
  suspend(tenantId: string) {
    return this.append(`tenant-${tenantId}`, 'TenantSuspended', { tenantId, reason: 'test' });
  }
  resume(tenantId: string) {
    return this.append(`tenant-${tenantId}`, 'TenantResumed', { tenantId });
  }
  offboard(tenantId: string) {
    return this.append(`tenant-${tenantId}`, 'TenantOffboarded', { tenantId, reason: 'test' });
  }
  link(tenantId: string, keyLinkId: string, providerRegion = 'eu-central-1') {
    return this.append(`keylink-${keyLinkId}`, 'KeyLinked', {
      keyLinkId,
      tenantId,
      providerKind: 'pkcs11',
      mode: 'HYOK',
      keyReference: `pkcs11:token=t;object=${keyLinkId}`,
      algorithm: 'AES',
      keySize: 256,
      providerRegion,
    });
  }
  activate(tenantId: string, keyLinkId: string) {
    return this.append(`keylink-${keyLinkId}`, 'KeyLinkActivated', { keyLinkId, tenantId });
  }
  revoke(tenantId: string, keyLinkId: string, previousStatus: 'pending' | 'active' = 'active') {
    return this.append(`keylink-${keyLinkId}`, 'KeyLinkRevoked', { keyLinkId, tenantId, reason: 'test', previousStatus });
  }
  restore(tenantId: string, keyLinkId: string, restoredStatus: 'pending' | 'active' = 'active') {
    return this.append(`keylink-${keyLinkId}`, 'KeyLinkRestored', { keyLinkId, tenantId, reason: 'test', restoredStatus });
  }
  unlink(tenantId: string, keyLinkId: string) {
    return this.append(`keylink-${keyLinkId}`, 'KeyUnlinked', { keyLinkId, tenantId, reason: 'test' });
  }
  register(tenantId: string, systemId: string, keyLinkId: string, region = 'eu-central-1') {
    return this.append(`system-${systemId}`, 'SystemRegistered', { systemId, tenantId, name: systemId, region, keyLinkId });
  }
  deregister(tenantId: string, systemId: string) {
    return this.append(`system-${systemId}`, 'SystemDeregistered', { systemId, tenantId, reason: 'test' });
  }
  define(policyId: string, document: PolicyDocument) {
    return this.append(`policy-${policyId}`, 'PolicyDefined', { policyId, name: policyId, version: 1, document });
  }
  revise(policyId: string, version: number, document: PolicyDocument) {
    return this.append(`policy-${policyId}`, 'PolicyRevised', { policyId, version, document });
  }
  assign(scope: string, policyId: string, version: number | 'latest' = 'latest') {
    return this.append(`policyscope-${scope}`, 'PolicyAssigned', { scope, policyId, version });
  }
  unassign(scope: string, policyId: string) {
    return this.append(`policyscope-${scope}`, 'PolicyUnassigned', { scope, policyId });
  }
}

/** A small seeded PRNG (mulberry32), so a failing random run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JURISDICTIONS = ['EU', 'US', 'CH', 'APAC'];
const GEOFENCES: PolicyDocument[] = [
  { geofence: { unwrapRegions: { EU: ['eu-central-1', 'eu-west-1'] } } },
  { geofence: { unwrapRegions: { EU: ['eu-west-1'], US: ['us-east-1'] } } },
  { geofence: { unwrapRegions: { US: ['us-east-1', 'eu-west-1'], CH: ['eu-central-1'] } } },
  { geofence: { unwrapRegions: { APAC: ['ap-south-1'], EU: ['eu-central-1'] } } },
  { rotation: { maxAgeDays: 90 } },
];

/**
 * A random but valid governance history: every event is one the deciders could have produced from the state so
 * far (links revoked before unlinking, systems bound to live links of their tenant, policies assigned only once
 * defined, nothing after offboarding). It covers every event type the bridge folds, revocations included.
 */
export class RandomWorkload {
  private readonly random: () => number;
  private readonly tenants = new Map<string, { status: 'active' | 'suspended' | 'offboarded' }>();
  private readonly links = new Map<string, { tenantId: string; status: 'pending' | 'active' | 'revoked' | 'unlinked'; revokedFrom?: 'pending' | 'active' }>();
  private readonly systems = new Map<string, { tenantId: string; registered: boolean }>();
  private readonly policies = new Map<string, number>();
  private readonly assignments = new Map<string, Set<string>>();
  private counter = 0;

  constructor(
    private readonly gov: Governance,
    seed: number,
    private readonly label = 'w',
  ) {
    this.random = prng(seed);
  }

  /** Appends one event and returns it. */
  async next(): Promise<RecordedEvent> {
    for (;;) {
      const action = this.weighted(this.actions());
      const event = await action();
      if (event) return event;
    }
  }

  private actions(): [number, () => Promise<RecordedEvent | undefined>][] {
    const live = [...this.tenants].filter(([, t]) => t.status !== 'offboarded').map(([id]) => id);
    const active = [...this.tenants].filter(([, t]) => t.status === 'active').map(([id]) => id);
    return [
      [live.length < 8 ? 6 : 1, () => this.onboard()],
      [active.length ? 8 : 0, () => this.linkKey(this.pick(active))],
      [8, () => this.changeLink()],
      [active.length ? 6 : 0, () => this.registerSystem(this.pick(active))],
      [3, () => this.deregisterSystem()],
      [live.length ? 3 : 0, () => this.suspendOrResume(this.pick(live))],
      [live.length > 4 ? 1 : 0, () => this.offboard(this.pick(live))],
      [this.policies.size < 4 ? 2 : 0, () => this.definePolicy()],
      [this.policies.size ? 3 : 0, () => this.revisePolicy()],
      [this.policies.size ? 3 : 0, () => this.assignPolicy(live)],
      [2, () => this.unassignPolicy()],
      [live.length ? 1 : 0, () => this.gov.updateHome(this.pick(live), this.pick(['eu-central-1', 'us-east-1']))],
    ];
  }

  private id(kind: string): string {
    return `${this.label}${kind}${++this.counter}`;
  }

  private onboard() {
    const tenantId = this.id('t');
    this.tenants.set(tenantId, { status: 'active' });
    return this.gov.onboard(tenantId, this.pick(JURISDICTIONS), 'eu-central-1');
  }

  private linkKey(tenantId: string) {
    const keyLinkId = this.id('k');
    this.links.set(keyLinkId, { tenantId, status: 'pending' });
    return this.gov.link(tenantId, keyLinkId);
  }

  private async changeLink(): Promise<RecordedEvent | undefined> {
    const candidates = [...this.links].filter(([, l]) => l.status !== 'unlinked' && this.tenants.get(l.tenantId)!.status !== 'offboarded');
    if (candidates.length === 0) return undefined;
    const [keyLinkId, link] = this.pick(candidates);
    const tenantActive = this.tenants.get(link.tenantId)!.status === 'active';
    if (link.status === 'pending' && tenantActive && this.random() < 0.7) {
      link.status = 'active';
      return this.gov.activate(link.tenantId, keyLinkId);
    }
    if (link.status === 'revoked') {
      if (tenantActive && this.random() < 0.5) {
        link.status = link.revokedFrom ?? 'pending';
        return this.gov.restore(link.tenantId, keyLinkId, link.status);
      }
      link.status = 'unlinked';
      return this.gov.unlink(link.tenantId, keyLinkId);
    }
    if (link.status === 'pending' || link.status === 'active') {
      const previous = link.status;
      link.revokedFrom = previous;
      link.status = 'revoked';
      return this.gov.revoke(link.tenantId, keyLinkId, previous);
    }
    return undefined;
  }

  private registerSystem(tenantId: string) {
    const links = [...this.links].filter(([, l]) => l.tenantId === tenantId && (l.status === 'pending' || l.status === 'active'));
    if (links.length === 0) return Promise.resolve(undefined);
    const systemId = this.id('s');
    this.systems.set(systemId, { tenantId, registered: true });
    return this.gov.register(tenantId, systemId, this.pick(links)[0], this.pick(['eu-central-1', 'eu-west-1', 'us-east-1']));
  }

  private deregisterSystem() {
    const registered = [...this.systems].filter(([, s]) => s.registered);
    if (registered.length === 0) return Promise.resolve(undefined);
    const [systemId, system] = this.pick(registered);
    system.registered = false;
    return this.gov.deregister(system.tenantId, systemId);
  }

  private suspendOrResume(tenantId: string) {
    const tenant = this.tenants.get(tenantId)!;
    if (tenant.status === 'active') {
      tenant.status = 'suspended';
      return this.gov.suspend(tenantId);
    }
    tenant.status = 'active';
    return this.gov.resume(tenantId);
  }

  private offboard(tenantId: string) {
    // The decider refuses to offboard a tenant with active links: revoke them first.
    const active = [...this.links].find(([, l]) => l.tenantId === tenantId && l.status === 'active');
    if (active) {
      active[1].status = 'revoked';
      active[1].revokedFrom = 'active';
      return this.gov.revoke(tenantId, active[0], 'active');
    }
    this.tenants.get(tenantId)!.status = 'offboarded';
    return this.gov.offboard(tenantId);
  }

  private definePolicy() {
    const policyId = this.id('p');
    this.policies.set(policyId, 1);
    return this.gov.define(policyId, this.pick(GEOFENCES));
  }

  private revisePolicy() {
    const policyId = this.pick([...this.policies.keys()]);
    const version = this.policies.get(policyId)! + 1;
    this.policies.set(policyId, version);
    return this.gov.revise(policyId, version, this.pick(GEOFENCES));
  }

  private assignPolicy(live: string[]) {
    const policyId = this.pick([...this.policies.keys()]);
    const scope = live.length === 0 || this.random() < 0.4 ? 'global' : this.pick(live);
    let assigned = this.assignments.get(scope);
    if (!assigned) this.assignments.set(scope, (assigned = new Set()));
    assigned.add(policyId);
    const latest = this.policies.get(policyId)!;
    const version = this.random() < 0.7 ? 'latest' : 1 + Math.floor(this.random() * latest);
    return this.gov.assign(scope, policyId, version);
  }

  private unassignPolicy() {
    const pairs = [...this.assignments].flatMap(([scope, ids]) => [...ids].map((id) => [scope, id] as const));
    if (pairs.length === 0) return Promise.resolve(undefined);
    const [scope, policyId] = this.pick(pairs);
    this.assignments.get(scope)!.delete(policyId);
    return this.gov.unassign(scope, policyId);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private weighted<T>(choices: readonly [number, T][]): T {
    let r = this.random() * choices.reduce((sum, [w]) => sum + w, 0);
    for (const [w, choice] of choices) if ((r -= w) < 0) return choice;
    return choices[choices.length - 1][1];
  }
}
