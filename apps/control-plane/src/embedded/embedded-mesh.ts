import type { Logger } from 'pino';
import { DevIssuer, JwtVerifier } from '@cmk/auth';
import type { EventStore } from '@cmk/event-store';
import type { LocalKeyProvider } from '@cmk/key-providers/local';
import { InProcessMesh } from '@cmk/mesh';
import { MeshBridge } from '../../../mesh-bridge/src/mesh-bridge';
import { inProcessEndOffsets, RegionalWorker } from '../../../regional-worker/src';

/** The regions the embedded demo runs a worker for. */
export const EMBEDDED_REGIONS = ['eu-central-1', 'us-east-1', 'ap-southeast-1'] as const;
export const WORKER_AUDIENCE = 'openkcm-cmk-worker';
/** The software L1 key every embedded demo has: link it as `local:key=demo-root`. */
export const DEMO_KEY_REF = 'local:key=demo-root';

export interface EmbeddedWorkerInfo {
  workerId: string;
  region: string;
  url: string;
  ready: boolean;
}

/**
 * The whole loop in one process, for `npm start`: the in-process mesh, the mesh bridge following the event
 * store, and one regional worker per EMBEDDED_REGIONS entry, unwrapping under a local software key (the demo's
 * stand-in for a customer's HSM). Workload tokens come from the embedded dev issuer with the workers' audience.
 */
export class EmbeddedMesh {
  private constructor(
    private readonly mesh: InProcessMesh,
    private readonly bridge: MeshBridge,
    private readonly workers: RegionalWorker[],
    private readonly keys: LocalKeyProvider,
    private readonly issuer: DevIssuer,
  ) {}

  /** Workers listen on `basePort + 1 + i` (8081, 8082, 8083 next to the default 8080); basePort 0: any free ports. */
  static async start(deps: { store: EventStore; issuer: DevIssuer; keys: LocalKeyProvider; host: string; basePort: number; logger: Logger }): Promise<EmbeddedMesh> {
    const mesh = new InProcessMesh();
    const bridge = new MeshBridge({ store: deps.store, mesh }, { regions: [...EMBEDDED_REGIONS], heartbeatMs: 200 });
    const keys = deps.keys;
    const verifier = new JwtVerifier({
      issuer: deps.issuer.issuer,
      audience: WORKER_AUDIENCE,
      jwks: deps.issuer.jwks,
      rolesClaim: 'roles',
      tenantClaim: 'cmk_tenant',
      clockToleranceSeconds: 30,
    });
    const workers = EMBEDDED_REGIONS.map(
      (region, i) =>
        new RegionalWorker({
          workerId: `embedded-${region}`,
          region,
          mesh,
          endOffsets: inProcessEndOffsets(mesh),
          providers: [keys],
          verifier,
          host: deps.host,
          port: deps.basePort === 0 ? 0 : deps.basePort + 1 + i,
          usageIntervalMs: 5_000,
          logger: deps.logger.child({ component: 'regional-worker' }),
        }),
    );
    const embedded = new EmbeddedMesh(mesh, bridge, workers, keys, deps.issuer);
    try {
      await bridge.start();
      await Promise.all(workers.map((w) => w.start()));
    } catch (error) {
      await embedded.close();
      throw error;
    }
    return embedded;
  }

  get regions(): EmbeddedWorkerInfo[] {
    return this.workers.map((w) => ({ workerId: w.workerId, region: w.store.region, url: w.url, ready: w.ready }));
  }

  get ready(): boolean {
    return this.bridge.health().ready && this.workers.every((w) => w.ready);
  }

  /** A workload token for one system of one tenant, for the workers' API. */
  workloadToken(tenantId: string, systemId: string, ttlSeconds = 3600): Promise<string> {
    return this.issuer.issue({
      subject: `system:${systemId}`,
      roles: [],
      audience: WORKER_AUDIENCE,
      ttlSeconds,
      claims: { cmk_tenant: tenantId, cmk_system: systemId },
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.stop()));
    await this.bridge.stop().catch(() => undefined);
    await this.mesh.close().catch(() => undefined);
  }
}
