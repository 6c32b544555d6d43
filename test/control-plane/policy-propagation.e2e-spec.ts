/**
 * Policy versions travel through the mesh and every worker reports the version it enforces: a policy change is
 * confirmed from each region, a worker that has not received it shows as drift in GET /v1/compliance until it has,
 * and the confirmations are recorded (WorkerEnforcementReported in `worker-<id>`). Real control plane on
 * PostgreSQL, the mesh bridge and three regional workers on the in-process mesh (Kafka has its own suites).
 */
import { randomUUID } from 'node:crypto';
import { InProcessMesh } from '@cmk/mesh';
import { OrbitalTopics } from '@cmk/orbital';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { GatedMesh } from '../worker/support/gated-mesh';
import { createWorker, eventually } from '../worker/support/worker-harness';
import { WorkloadIssuer } from '../worker/support/workload-issuer';
import { ALL, approved, tenantBody } from './fixtures';

const EU = 'eu-central-1';
const US = 'us-east-1';
let cp: TestControlPlane;
let token: string;
let mesh: InProcessMesh;
let gated: GatedMesh;
let bridge: MeshBridge;
let workers: RegionalWorker[];
let providers: Pkcs11KeyProvider[];

interface DriftDetail {
  workerId: string;
  region: string;
  liveness: string;
  inSync: boolean;
  enforces: { policyId: string; version: number; tenants: number }[];
  missing: { policyId: string; version: number }[];
  outdated: { policyId: string; version: number }[];
}

beforeAll(async () => {
  const issuer = await WorkloadIssuer.create();
  cp = await startTestControlPlane();
  token = await cp.token(ALL);
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  gated = new GatedMesh(mesh);
  bridge = new MeshBridge({ store: cp.running.infra.store, mesh }, { regions: [EU, US], heartbeatMs: 100, workerSilenceMinMs: 1_500 });
  await bridge.start();
  providers = [];
  // The last worker follows the mesh through a gate the test can close (a region cut off from policy updates).
  workers = [
    [EU, 'eu-w1', mesh],
    [EU, 'eu-w2', mesh],
    [US, 'us-w1', gated],
  ].map(([region, workerId, m]) => {
    const provider = new Pkcs11KeyProvider({ modulePath: cp.hsm.hsm.modulePath, tokenLabel: cp.hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
    providers.push(provider);
    return createWorker({ mesh: m as InProcessMesh, endOffsets: inProcessEndOffsets(mesh), region: region as string, workerId: workerId as string, issuer, provider, statusIntervalMs: 200 });
  });
  await Promise.all(workers.map((w) => w.start()));
}, 120_000);

afterAll(async () => {
  gated?.reconnect();
  await Promise.all((workers ?? []).map((w) => w.stop()));
  await bridge?.stop();
  await mesh?.close();
  await Promise.all((providers ?? []).map((p) => p.close()));
  await cp?.close();
});

const drift = async (): Promise<{ workers: number; inSync: number; details: DriftDetail[] }> => {
  const res = await cp.call('GET', '/v1/compliance', { token });
  expect(res.status).toBe(200);
  expect(res.body.workerDrift.reported).toBe(true);
  return res.body.workerDrift;
};
const byId = (details: DriftDetail[]) => Object.fromEntries(details.map((d) => [d.workerId, d]));
const onboard = async (jurisdiction: string, homeRegion: string) => {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId, jurisdiction, homeRegion }) })).status).toBe(201);
  return tenantId;
};

describe('policy versions on the mesh', () => {
  it('every worker reports the new version after a policy change; a worker cut off shows as drift until it catches up', async () => {
    // A fresh deployment: three workers reporting, nothing in force, all in sync.
    await eventually(async () => {
      const d = await drift();
      return d.workers === 3 && d.inSync === 3;
    }, 30_000);

    const eu = await onboard('EU', EU);
    await onboard('US', US);
    const name = `geo-${randomUUID().slice(0, 8)}`;
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name, document: { geofence: { unwrapRegions: { EU: [EU] } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: 'global', acceptImpact: true } }));

    // Version 1 everywhere: the EU tenant is fenced into eu-central-1, the US tenant is served by every region.
    const v1 = await eventually(async () => {
      const d = await drift();
      return d.inSync === 3 && d.details.every((w) => w.enforces.some((p) => p.policyId === policy.id && p.version === 1)) ? d : undefined;
    }, 30_000);
    const atV1 = byId(v1.details);
    expect(atV1['eu-w1'].enforces).toEqual([{ policyId: policy.id, version: 1, tenants: 2 }]);
    expect(atV1['us-w1'].enforces).toEqual([{ policyId: policy.id, version: 1, tenants: 1 }]);

    // us-east-1 stops hearing region deltas; version 2 reaches only the EU workers.
    gated.hold(OrbitalTopics.regionDeltas(US));
    const revised = Date.now();
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/versions`, { token, body: { document: { geofence: { unwrapRegions: { EU: [EU, US] } } }, basedOnVersion: 1, acceptImpact: true } }));
    const split = await eventually(async () => {
      const d = byId((await drift()).details);
      return d['eu-w1'].inSync && d['eu-w2'].inSync && !d['us-w1'].inSync ? d : undefined;
    }, 30_000);
    const propagatedToEuMs = Date.now() - revised;
    expect(split['eu-w1'].enforces).toEqual([{ policyId: policy.id, version: 2, tenants: 2 }]);
    // The cut-off worker still enforces version 1: version 2 is missing there, and version 1 is outdated.
    expect(split['us-w1']).toMatchObject({ liveness: 'reporting', missing: [{ policyId: policy.id, version: 2 }], outdated: [{ policyId: policy.id, version: 1 }] });

    // The gate opens: the worker catches up and reports version 2.
    gated.release(OrbitalTopics.regionDeltas(US));
    const converged = await eventually(async () => {
      const d = await drift();
      return d.inSync === 3 ? d : undefined;
    }, 30_000);
    // Version 2 lets the EU tenant into us-east-1 as well.
    expect(byId(converged.details)['us-w1'].enforces).toEqual([{ policyId: policy.id, version: 2, tenants: 2 }]);
    expect(workers[2].store.get(eu)?.served?.view.policies).toEqual([{ policyId: policy.id, version: 2 }]);

    // Recorded for auditors: each worker's confirmation of version 2, once.
    for (const w of workers) {
      const events = await cp.running.infra.store.readStream(`worker-${w.workerId}`);
      const confirmations = events.filter((e) => e.type === 'WorkerEnforcementReported' && (e.data as { policies: { version: number }[] }).policies.some((p) => p.version === 2));
      expect(confirmations).toHaveLength(1);
    }
    // Reports every 200 ms, but only changes are recorded.
    const usEvents = await cp.running.infra.store.readStream('worker-us-w1');
    expect(usEvents.length).toBeLessThan(10);
    process.stdout.write(`policy v2 confirmed by both EU workers ${propagatedToEuMs} ms after the revision was approved\n`);
  }, 90_000);

  it('a worker that stops reporting is recorded silent and is not in sync; a clean stop is recorded as stopped', async () => {
    const [, second] = workers;
    gated.cut();
    await eventually(async () => byId((await drift()).details)['us-w1'].liveness === 'silent', 30_000);
    expect(byId((await drift()).details)['us-w1'].inSync).toBe(false);
    gated.reconnect();
    // A report after silence is recorded again, so the worker is back in sync.
    await eventually(async () => byId((await drift()).details)['us-w1'].inSync, 30_000);
    await second.stop();
    await eventually(async () => (await drift()).details.every((d) => d.workerId !== 'eu-w2'), 30_000);
    const stopped = await cp.running.infra.store.readStream('worker-eu-w2');
    expect(stopped[stopped.length - 1].type).toBe('WorkerStopped');
    workers.splice(1, 1);
  }, 90_000);
});
