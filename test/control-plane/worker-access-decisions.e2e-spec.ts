/**
 * Regional workers' access decisions, end to end: a control plane on the real PostgreSQL, the mesh bridge and
 * regional workers on the in-process mesh (Kafka has its own suites), tenants' L1 keys in a real SoftHSM2 token.
 * Denials (unknown system, geofence, revoked link, bad or missing token) travel from the workers' access-decision
 * lane to the bridge, which records them per tenant; they are read back through the audit events API with
 * tenant scope and formatted as the SIEM sinks export them. A flood beyond the detail limit arrives as a
 * suppressed summary with the exact count, and a broker outage on the worker's side delays reports without
 * losing any.
 */
import { randomUUID } from 'node:crypto';
import { formatCef, parseCef } from '@cmk/audit';
import { InProcessMesh, Mesh, MeshMessage } from '@cmk/mesh';
import { OrbitalTopics } from '@cmk/orbital';
import { Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { toAuditRecord } from '../../apps/control-plane/src/audit/siem/siem-stores';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { api, createWorker, eventually, WorkerSetup } from '../worker/support/worker-harness';
import { WorkloadIssuer } from '../worker/support/workload-issuer';
import { ALL, approved, tenantBody } from './fixtures';

const EU = 'eu-central-1';
const WEST = 'eu-west-1';

/** Refuses the worker's publishes to the access-decision topic while `down`, as a producer with no broker does. */
class DenialTopicOutage implements Mesh {
  down = false;
  constructor(private readonly inner: Mesh) {}
  publish(topic: string, messages: readonly MeshMessage[]): Promise<void> {
    if (this.down && topic === OrbitalTopics.accessDecisions) return Promise.reject(new Error('broker unavailable'));
    return this.inner.publish(topic, messages);
  }
  subscribe: Mesh['subscribe'] = (...args) => this.inner.subscribe(...args);
  ensureTopics: Mesh['ensureTopics'] = (topics) => this.inner.ensureTopics(topics);
  close = () => Promise.resolve();
}

let cp: TestControlPlane;
let token: string;
let mesh: InProcessMesh;
let bridge: MeshBridge;
let issuer: WorkloadIssuer;
let outage: DenialTopicOutage;
const providers: Pkcs11KeyProvider[] = [];
const running = new Set<RegionalWorker>();
let eu: RegionalWorker;
let west: RegionalWorker;

function worker(region: string, over: Partial<WorkerSetup> = {}): RegionalWorker {
  const provider = new Pkcs11KeyProvider({ modulePath: cp.hsm.hsm.modulePath, tokenLabel: cp.hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
  providers.push(provider);
  const w = createWorker({ mesh, endOffsets: inProcessEndOffsets(mesh), region, workerId: `${region}-${randomUUID().slice(0, 6)}`, issuer, provider, usageIntervalMs: 200, ...over });
  running.add(w);
  return w;
}

/** Waits until the worker would decide for the tenant (its view arrived and it hears heartbeats), without a request. */
async function deciding(w: RegionalWorker, tenantId: string, systemId: string, reason: string): Promise<void> {
  await eventually(() => {
    const d = w.decide({ tenantId, systemId, operation: 'wrap' });
    return !d.allowed && d.reason === reason;
  }, 30_000);
}

async function stop(w: RegionalWorker): Promise<void> {
  if (running.delete(w)) await w.stop();
}

beforeAll(async () => {
  issuer = await WorkloadIssuer.create();
  cp = await startTestControlPlane();
  token = await cp.token(ALL);
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  bridge = new MeshBridge({ store: cp.running.infra.store, mesh }, { regions: [EU, WEST], heartbeatMs: 100 });
  await bridge.start();
  outage = new DenialTopicOutage(mesh);
  eu = worker(EU);
  west = worker(WEST);
  await Promise.all([eu.start(), west.start()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([...running].map((w) => stop(w)));
  await bridge?.stop();
  await mesh?.close();
  await Promise.all(providers.map((p) => p.close()));
  await cp?.close();
});

/** A tenant with an active HYOK link to a fresh key in the HSM and one registered system. */
async function seed() {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
  const key = cp.hsm.keys.createAesKey({ label: `l1-${randomUUID().slice(0, 8)}` });
  const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
    token,
    body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: key.ref, algorithm: 'AES', keySize: 256, providerRegion: EU },
  });
  expect(link.status).toBe(201);
  const keyLinkId = link.body.id as string;
  expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} })).status).toBe(200);
  const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token, body: { name: 'billing', region: EU, keyLinkId } });
  expect(sys.status).toBe(201);
  const systemId = sys.body.id as string;
  return { tenantId, keyLinkId, systemId, workload: await issuer.token({ tenant: tenantId, system: systemId, subject: `system:${systemId}` }) };
}

interface AuditItem {
  streamName: string;
  type: string;
  tenantId: string | null;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  metadata: Record<string, unknown>;
  position: string;
}

/** Every audit entry of a type matching the query, once the audit index caught up with the store. */
async function audit(query: string, bearer = token): Promise<AuditItem[]> {
  const head = (await cp.running.infra.store.headPosition()).toString();
  const res = await cp.call('GET', `/v1/audit/events?${query}&limit=500&minPosition=${head}`, { token: bearer });
  expect(res.status).toBe(200);
  return res.body.items as AuditItem[];
}

/** Polls the audit log until `ready` holds for what the query returns. */
function recorded(query: string, ready: (items: AuditItem[]) => boolean, timeoutMs = 30_000): Promise<AuditItem[]> {
  return eventually(async () => {
    const items = await audit(query);
    return ready(items) ? items : undefined;
  }, timeoutMs, 100);
}

describe('regional workers record their denials in the audit log', () => {
  it('records each denial with its reason, tenant, system, link and subject, scoped to the tenant, and exportable', async () => {
    const t = await seed();
    const dataKey: { ciphertextBlob: string } = await eventually(async () => {
      const r = await api(eu, '/v1/data-keys', t.workload, {});
      return r.status === 200 ? (r.body as { ciphertextBlob: string }) : undefined;
    }, 30_000);
    await eventually(async () => (await api(west, '/v1/unwrap', t.workload, { ciphertextBlob: dataKey.ciphertextBlob })).status === 200, 30_000);

    // Unknown system: the token is good, the system is not the tenant's.
    const stranger = await issuer.token({ tenant: t.tenantId, system: 'sys-unregistered', subject: 'system:stranger' });
    expect((await api(eu, '/v1/data-keys', stranger, {})).body.reason).toBe('unknown-system');

    // Geofence: the tenant's keys may be unwrapped in eu-central-1 only.
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name: `eu-only-${t.tenantId}`, document: { geofence: { unwrapRegions: { EU: [EU] } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: t.tenantId } }));
    const geofenced = await eventually(async () => {
      const r = await api(west, '/v1/unwrap', t.workload, { ciphertextBlob: dataKey.ciphertextBlob });
      return r.status === 403 && r.body.reason === 'region-not-allowed';
    }, 30_000);
    expect(geofenced).toBe(true);

    // The kill switch: the link is revoked, the blob's link is refused.
    expect((await cp.call('POST', `/v1/key-links/${t.keyLinkId}/revoke`, { token, body: { reason: 'test' } })).status).toBe(200);
    await eventually(async () => (await api(eu, '/v1/unwrap', t.workload, { ciphertextBlob: dataKey.ciphertextBlob })).body.reason === 'key-link-revoked', 30_000);

    // Bad and missing tokens: nothing of the token is recorded, and no tenant (it could not be verified).
    const forger = await WorkloadIssuer.create();
    const forged = await forger.token({ tenant: t.tenantId, system: t.systemId, subject: 'mallory' });
    expect((await api(eu, '/v1/unwrap', forged, { ciphertextBlob: dataKey.ciphertextBlob })).status).toBe(401);
    expect((await api(eu, '/v1/wrap', undefined, { plaintext: 'AAAA' })).status).toBe(401);

    const mine = await recorded(`tenantId=${t.tenantId}&type=WorkerAccessDenied`, (items) => ['unknown-system', 'region-not-allowed', 'key-link-revoked'].every((r) => items.some((i) => i.data.reason === r)));
    for (const item of mine) {
      expect(item.tenantId).toBe(t.tenantId);
      expect(item.streamName).toMatch(new RegExp(`^workerdenied-\\d{8}-${t.tenantId}$`));
      expect(item.metadata).toMatchObject({ actor: { subject: expect.stringMatching(/^worker:/), roles: ['regional-worker'] } });
    }
    const byReason = (reason: string) => mine.find((i) => i.data.reason === reason)!.data;
    expect(byReason('unknown-system')).toMatchObject({ systemId: 'sys-unregistered', subject: 'system:stranger', operation: 'generate-data-key', region: EU, workerId: eu.workerId });
    expect(byReason('unknown-system').keyLinkId).toBeUndefined();
    expect(byReason('region-not-allowed')).toMatchObject({ systemId: t.systemId, subject: `system:${t.systemId}`, operation: 'unwrap', keyLinkId: t.keyLinkId, region: WEST, workerId: west.workerId });
    expect(byReason('key-link-revoked')).toMatchObject({ systemId: t.systemId, operation: 'unwrap', keyLinkId: t.keyLinkId, region: EU });
    expect(Date.parse(byReason('key-link-revoked').at)).toBeGreaterThan(Date.parse(byReason('unknown-system').at));

    // Refusals without a verified identity: the platform's record, in the day's stream without a tenant.
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const anonymous = await recorded(`stream=workerdenied-${day}&type=WorkerAccessDenied`, (items) => ['unknown-key', 'missing-credentials'].every((r) => items.some((i) => i.data.reason === r)));
    const forgedRecord = anonymous.find((i) => i.data.reason === 'unknown-key')!;
    expect(forgedRecord).toMatchObject({ tenantId: null, data: { operation: 'unwrap', region: EU } });
    expect(forgedRecord.data).not.toHaveProperty('tenantId');
    expect(forgedRecord.data).not.toHaveProperty('subject');
    expect(JSON.stringify(anonymous)).not.toContain(forged.split('.')[2]);
    expect(JSON.stringify(anonymous)).not.toContain('mallory');

    // Tenant scope: the tenant's own admin sees its denials, another tenant's admin sees none of them.
    const ownAdmin = await cp.token(['tenant-admin'], { tenants: [t.tenantId] });
    expect((await audit(`tenantId=${t.tenantId}&type=WorkerAccessDenied`, ownAdmin)).length).toBe(mine.length);
    const scoped = await audit('type=WorkerAccessDenied', ownAdmin);
    expect(scoped.every((i) => i.tenantId === t.tenantId)).toBe(true);
    const other = await cp.token(['tenant-admin'], { tenants: [randomUUID()] });
    expect((await cp.call('GET', `/v1/audit/events?tenantId=${t.tenantId}&type=WorkerAccessDenied`, { token: other })).status).toBe(403);
    expect(await audit('type=WorkerAccessDenied', other)).toEqual([]);

    // SIEM export: the sinks read every event of the store; CEF rates a worker's denial as a refusal.
    const [recordedEvent] = await cp.running.infra.store.readStream(mine[0].streamName, { maxCount: 1 });
    const cef = parseCef(formatCef(toAuditRecord(recordedEvent), { productVersion: '1' }));
    expect(cef).toMatchObject({ eventClassId: 'WorkerAccessDenied', name: 'Worker access denied', severity: '6' });
    expect(cef.extension).toMatchObject({ cat: 'workerdenied', suser: expect.stringMatching(/^worker:/) });
  }, 180_000);

  it('records a flood as at most the detail limit per reason plus a suppressed summary with the exact count', async () => {
    const t = await seed();
    // One window for the whole flood: the worker reports only when it stops.
    const flooded = worker(EU, { usageIntervalMs: 3_600_000, denialDetailLimit: 3 });
    await flooded.start();
    await deciding(flooded, t.tenantId, 'sys-flood', 'unknown-system');
    const stranger = await issuer.token({ tenant: t.tenantId, system: 'sys-flood', subject: 'system:flood' });
    const FLOOD = 40;
    const statuses = await Promise.all(Array.from({ length: FLOOD }, () => api(flooded, '/v1/wrap', stranger, { plaintext: 'AAAA' }).then((r) => r.status)));
    expect(statuses).toEqual(Array(FLOOD).fill(403));
    await stop(flooded);

    const items = await recorded(`tenantId=${t.tenantId}`, (all) => all.some((i) => i.type === 'WorkerAccessDeniedSuppressed'));
    const details = items.filter((i) => i.type === 'WorkerAccessDenied');
    const summaries = items.filter((i) => i.type === 'WorkerAccessDeniedSuppressed');
    expect(details).toHaveLength(3);
    expect(details.every((d) => d.data.reason === 'unknown-system' && d.data.systemId === 'sys-flood')).toBe(true);
    expect(summaries).toHaveLength(1);
    expect(summaries[0].data).toMatchObject({ tenantId: t.tenantId, systemId: 'sys-flood', reason: 'unknown-system', count: FLOOD - 3, workerId: flooded.workerId, region: EU });
    expect(Date.parse(summaries[0].data.window.to)).toBeGreaterThanOrEqual(Date.parse(summaries[0].data.window.from));
  }, 120_000);

  it('holds denials while the broker refuses them and records every one once it is back', async () => {
    const t = await seed();
    const cutOff = worker(EU, { mesh: outage, endOffsets: inProcessEndOffsets(mesh) });
    await cutOff.start();
    await deciding(cutOff, t.tenantId, 'sys-outage', 'unknown-system');
    const stranger = await issuer.token({ tenant: t.tenantId, system: 'sys-outage', subject: 'system:outage' });
    outage.down = true;
    for (let i = 0; i < 5; i++) expect((await api(cutOff, '/v1/data-keys', stranger, {})).status).toBe(403);
    // Several report windows pass while the broker is away: nothing arrives...
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await audit(`tenantId=${t.tenantId}&type=WorkerAccessDenied`)).toEqual([]);
    const metrics = await api(cutOff, '/metrics', undefined, undefined, 'GET');
    expect(metrics.body).toMatch(/cmk_worker_access_denial_reports_published_total 0/);

    // ...and everything does once it is back, recorded once.
    outage.down = false;
    const items = await recorded(`tenantId=${t.tenantId}&type=WorkerAccessDenied`, (all) => all.length >= 5);
    await new Promise((r) => setTimeout(r, 500));
    expect(await audit(`tenantId=${t.tenantId}&type=WorkerAccessDenied`)).toHaveLength(5);
    expect(items.every((i) => i.data.reason === 'unknown-system' && i.data.workerId === cutOff.workerId)).toBe(true);
    expect((await api(cutOff, '/metrics', undefined, undefined, 'GET')).body).toMatch(/cmk_worker_access_denials_lost_total 0/);
  }, 120_000);
});
