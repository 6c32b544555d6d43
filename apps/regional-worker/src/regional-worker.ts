import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino, { Logger } from 'pino';
import type { JwtVerifier } from '@cmk/auth';
import type { KeyProvider } from '@cmk/key-providers';
import type { Mesh } from '@cmk/mesh';
import { AccessDecision, AccessOperation, AccessRequest, decideAccess, DEFAULT_MAX_STALENESS_MS, DenialReason, encodeMessage, keyLinkUsable, TenantViewStore } from '@cmk/orbital';
import { KeyService, WorkloadIdentity } from './crypto/key-service';
import { L2KeyCache } from './crypto/l2-key-cache';
import { TenantKeyRewrapper } from './crypto/tenant-key-rewrapper';
import { createWorkerHttpServer } from './http/worker-http';
import { WorkloadAuthenticator } from './http/workload-auth';
import type { WorkerTlsOptions } from './http/worker-tls';
import { AccessDenialLane } from './lanes/access-denial-lane';
import { Outbox } from './lanes/outbox';
import { RevocationEnforcer } from './lanes/revocation-enforcer';
import { StatusReporter } from './lanes/status-reporter';
import { UsageMeter } from './lanes/usage-meter';
import { createWorkerMetrics, WorkerMetrics } from './observability/worker-metrics';
import type { EndOffsets } from './view/end-offsets';
import { HeartbeatClock, MonotonicClock, monotonicNow } from './view/heartbeat-clock';
import { WorkerTopics, workerTopics } from './view/topics';
import { ViewChanges } from './view/view-changes';
import { ViewFollower } from './view/view-follower';

export interface RegionalWorkerOptions {
  workerId: string;
  region: string;
  /** Shared with other workers in embedded mode; the worker never closes it. */
  mesh: Mesh;
  /** How the worker learns where the state topic ends (see view/end-offsets.ts). */
  endOffsets: EndOffsets;
  topicPrefix?: string;
  /** The providers key links may name, by kind. Shared; the worker never closes them. */
  providers: readonly KeyProvider[];
  /** Verifies workload tokens; its tenant claim must be the one workloads carry (default `cmk_tenant`). */
  verifier: JwtVerifier;
  tenantClaim?: string;
  systemClaim?: string;
  /** HTTPS, and workload client certificates (mutual TLS) with `clientAuth`; plain HTTP without it. */
  tls?: WorkerTlsOptions;
  host?: string;
  /** 0: any free port (see {@link RegionalWorker.url}). */
  port?: number;
  /** The usage and access-denial window. Default 60 s: allowed requests are recorded as these per-minute aggregates. */
  usageIntervalMs?: number;
  /** Denials recorded one by one per (tenant, reason) and window; beyond, only counted. Default 100. */
  denialDetailLimit?: number;
  /** How often the worker reports the policy versions it enforces (and that it is alive). Default 10 s. */
  statusIntervalMs?: number;
  l2CacheSize?: number;
  /** How long a request waits for a new L2 key to come back registered from the mesh. Default 10 s. */
  tenantKeyRegistrationTimeoutMs?: number;
  logger?: Logger;
  /** Process metrics too (standalone only: in embedded mode the host collects them once). */
  defaultMetrics?: boolean;
  clock?: MonotonicClock;
}

/**
 * The crypto layer stand-in for one region: follows the Orbital lanes into its view, decides every request
 * locally, and serves data keys under the tenant's L1 key. Several can run in one process.
 */
export class RegionalWorker {
  readonly store: TenantViewStore;
  readonly heartbeat: HeartbeatClock;
  /** Exposed for tests and diagnostics (which keys are held); never log its contents. */
  readonly l2Cache: L2KeyCache;
  readonly metrics: WorkerMetrics;
  readonly topics: WorkerTopics;
  private readonly log: Logger;
  private readonly now: MonotonicClock;
  private readonly follower: ViewFollower;
  private readonly acks: Outbox;
  private readonly usageOutbox: Outbox;
  private readonly statusOutbox: Outbox;
  private readonly status: StatusReporter;
  private readonly usage: UsageMeter;
  private readonly denials: AccessDenialLane;
  private readonly tenantKeyOutbox: Outbox;
  private readonly viewChanges = new ViewChanges();
  private readonly rewrapper: TenantKeyRewrapper;
  private readonly server: Server;
  private usageTimer?: NodeJS.Timeout;
  private listening = false;

  constructor(private readonly options: RegionalWorkerOptions) {
    const { workerId, region, mesh } = options;
    this.log = (options.logger ?? pino({ level: 'info' })).child({ workerId, region });
    this.now = options.clock ?? monotonicNow;
    this.topics = workerTopics(region, options.topicPrefix);
    this.store = new TenantViewStore(region);
    this.heartbeat = new HeartbeatClock(this.now);
    this.l2Cache = new L2KeyCache(options.l2CacheSize ?? 10_000);
    this.metrics = createWorkerMetrics(
      {
        stalenessSeconds: () => this.heartbeat.silenceMs() / 1000,
        ready: () => this.store.ready,
        servedTenants: () => this.store.servedTenants,
        cachedL2Keys: () => this.l2Cache.size,
        pendingAcks: () => this.acks.pending,
      },
      { defaultMetrics: options.defaultMetrics },
    );
    this.acks = new Outbox(mesh, this.topics.acks, this.log, {}, (n) => this.metrics.acksPublished.inc(n));
    this.usageOutbox = new Outbox(mesh, this.topics.usage, this.log, { capacity: 1_000 }, (n) => this.metrics.usageReports.inc(n));
    this.usage = new UsageMeter(workerId, region);
    this.denials = new AccessDenialLane({
      workerId,
      region,
      mesh,
      topic: this.topics.accessDecisions,
      log: this.log,
      registry: this.metrics.registry,
      detailLimit: options.denialDetailLimit ?? 100,
    });
    // Reports are state: only the newest matters, so a small outbox that drops the oldest is right.
    this.statusOutbox = new Outbox(mesh, this.topics.workerStatus, this.log, { capacity: 10 });
    this.status = new StatusReporter({
      workerId,
      region,
      store: this.store,
      intervalMs: options.statusIntervalMs ?? 10_000,
      publish: (m) => this.statusOutbox.push({ key: workerId, value: encodeMessage(m) }),
    });
    // Keyed by link, so one link's registrations and re-wraps stay in order on the way to the bridge.
    this.tenantKeyOutbox = new Outbox(mesh, this.topics.tenantKeys, this.log);
    const providers = new Map(options.providers.map((p) => [p.kind, p]));
    this.rewrapper = new TenantKeyRewrapper({
      store: this.store,
      workerId,
      region,
      providers,
      report: (m) => this.tenantKeyOutbox.push({ key: m.keyLinkId, value: encodeMessage(m) }),
      log: this.log,
    });
    const enforcer = new RevocationEnforcer({
      workerId,
      region,
      store: this.store,
      cache: this.l2Cache,
      acks: this.acks,
      log: this.log,
      onEnforced: (m) => this.metrics.revocations.inc({ cause: m.cause }),
    });
    this.follower = new ViewFollower({
      mesh,
      endOffsets: options.endOffsets,
      topics: this.topics,
      store: this.store,
      heartbeat: this.heartbeat,
      log: this.log,
      onStateApplied: (tenantId) => {
        this.l2Cache.retain(tenantId, (keyLinkId) => keyLinkUsable(this.store, tenantId, keyLinkId));
        this.viewChanges.notify(tenantId);
        this.rewrapper.onView(tenantId);
        this.status.onViewApplied();
      },
      onRevocation: (message) => {
        enforcer.enforce(message);
        this.viewChanges.notify(message.tenantId);
      },
      onRejected: (topic, error) => {
        this.metrics.rejected.inc({ topic });
        this.log.error({ topic, err: error.message }, 'skipped an Orbital message that cannot be decoded');
      },
    });
    const keys = new KeyService({
      store: this.store,
      workerId,
      region,
      heartbeat: this.heartbeat,
      now: this.now,
      providers,
      cache: this.l2Cache,
      propose: (m) => this.tenantKeyOutbox.push({ key: m.keyLinkId, value: encodeMessage(m) }),
      views: this.viewChanges,
      registrationTimeoutMs: options.tenantKeyRegistrationTimeoutMs ?? 10_000,
      onDecision: (operation, identity, decision, keyLinkId) => {
        if (!decision.allowed) this.recordDenial(operation, identity, decision.reason, keyLinkId);
        this.metrics.decisions.inc({ operation, outcome: decision.allowed ? 'allow' : 'deny', reason: decision.allowed ? 'allowed' : decision.reason });
      },
    });
    this.server = createWorkerHttpServer({
      auth: new WorkloadAuthenticator(options.verifier, {
        defaultClaims: { tenant: options.tenantClaim ?? 'cmk_tenant', system: options.systemClaim ?? 'cmk_system' },
        trustDomain: options.tls?.clientAuth?.trustDomain,
      }),
      tls: options.tls,
      keys,
      metrics: this.metrics,
      log: this.log,
      readiness: () => this.readiness(),
      onOutcome: (identity, operation, allowed) => this.usage.record(identity.tenantId, identity.systemId, operation, allowed ? 'allowed' : 'denied'),
      onUnauthenticated: (operation, refusal) => this.denials.record({ operation, reason: refusal }),
    });
  }

  /** Serves health at once; resolves when caught up with the state topic (ready). */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
    this.log.info({ url: this.url }, 'regional worker listening; bootstrapping its view');
    const interval = this.options.usageIntervalMs ?? 60_000;
    this.usageTimer = setInterval(() => this.reportUsage(), interval);
    this.usageTimer.unref();
    this.status.start();
    await this.follower.start();
    this.status.onViewApplied();
  }

  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('the worker is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.options.tls ? 'https' : 'http'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  }

  get ready(): boolean {
    return this.store.ready;
  }

  get workerId(): string {
    return this.options.workerId;
  }

  /** The decision this worker would take now (what every request runs first). */
  decide(request: AccessRequest): AccessDecision {
    return decideAccess(this.store, this.options.region, this.now(), this.heartbeat.lastHeartbeatAt, request);
  }

  /** Stops following the mesh and serving; flushes usage and acks (bounded), zeroises every cached key. */
  async stop(): Promise<void> {
    clearInterval(this.usageTimer);
    await this.follower.stop();
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    }
    this.viewChanges.close();
    await this.rewrapper.idle();
    this.reportUsage();
    this.status.stop();
    await Promise.all([this.acks.close(2_000), this.usageOutbox.close(2_000), this.tenantKeyOutbox.close(2_000), this.statusOutbox.close(2_000), this.denials.close(2_000)]);
    const zeroised = this.l2Cache.zeroiseAll();
    this.log.info({ zeroisedKeys: zeroised }, 'regional worker stopped');
  }

  /** Tenant, system and subject from the verified identity; the link the request named, else the system's in the view. */
  private recordDenial(operation: AccessOperation, identity: WorkloadIdentity, reason: DenialReason, keyLinkId: string | undefined): void {
    const { tenantId, systemId, subject } = identity;
    const link = keyLinkId ?? this.store.get(tenantId)?.served?.systems.get(systemId)?.keyLinkId;
    this.denials.record({ operation, reason, tenantId, systemId, subject, ...(link ? { keyLinkId: link } : {}) });
  }

  private reportUsage(): void {
    const report = this.usage.cut();
    if (report) this.usageOutbox.push({ key: this.options.workerId, value: encodeMessage(report) });
    // Same window as usage: a window's allowed counts and its denials describe the same minute.
    this.denials.flush();
  }

  private readiness(): { ready: boolean; details: Record<string, unknown> } {
    const silenceMs = this.heartbeat.silenceMs();
    // A load balancer should also steer away from a worker that is cut off from the mesh (every tenant at the
    // default bound would be refused), although each request checks its own tenant's bound anyway.
    const heard = silenceMs <= DEFAULT_MAX_STALENESS_MS;
    return {
      ready: this.store.ready && heard,
      details: { caughtUp: this.store.ready, heartbeatAgeMs: Number.isFinite(silenceMs) ? Math.round(silenceMs) : null, tenants: this.store.servedTenants },
    };
  }
}
