/**
 * The key hierarchy end to end: the real control plane (PostgreSQL event store), the real mesh bridge and
 * regional workers on the in-process mesh, with a real SoftHSM2 token as the customer's L1. L2 keys are
 * registered as events through the bridge (first one per version wins), data-key blobs (v2) name their L2 key
 * only, an L2 rotation moves sealing to a new version while old blobs still open, an L1 rotation re-wraps every
 * L2 key exactly once in effect without touching a blob, revocation still wins, and no event carries key
 * material. SoftHSM2 has no key versions: the L1 rotation is recorded as KeyVersionRotatedAtProvider, as a
 * health sync finds one at a versioning provider; the re-wrap itself goes through the real token.
 */
import { randomUUID } from 'node:crypto';
import { keyLinkStream, tenantKeyStream } from '@cmk/domain';
import type { RecordedEvent } from '@cmk/event-store';
import { Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { InProcessMesh } from '@cmk/mesh';
import { decodeMessage, OrbitalTopics, TenantKeyMessage } from '@cmk/orbital';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { parseBlob } from '../../apps/regional-worker/src/crypto/envelope';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { tenantBody } from '../control-plane/fixtures';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { api, createWorker, eventually, sleep } from './support/worker-harness';
import { WorkloadIssuer } from './support/workload-issuer';

const EU = 'eu-central-1';
const WEST = 'eu-west-1';
let cp: TestControlPlane;
let token: string;
let mesh: InProcessMesh;
let bridge: MeshBridge;
let workers: RegionalWorker[];
let providers: Pkcs11KeyProvider[];
let issuer: WorkloadIssuer;
const reports: TenantKeyMessage[] = [];

function startWorker(region: string, workerId: string): RegionalWorker {
  const provider = new Pkcs11KeyProvider({ modulePath: cp.hsm.hsm.modulePath, tokenLabel: cp.hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
  providers.push(provider);
  const worker = createWorker({ mesh, endOffsets: inProcessEndOffsets(mesh), region, workerId, issuer, provider });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  issuer = await WorkloadIssuer.create();
  cp = await startTestControlPlane();
  token = await cp.token(['tenant-admin', 'key-admin', 'platform-operator']);
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  bridge = new MeshBridge({ store: cp.running.infra.store, mesh }, { regions: [EU, WEST], heartbeatMs: 100 });
  await bridge.start();
  // What the workers report on the feedback path, as the bridge receives it.
  await mesh.subscribe(OrbitalTopics.tenantKeys, { fromBeginning: true }, async (m) => void reports.push(decodeMessage(m.value) as TenantKeyMessage));
  providers = [];
  workers = [];
  const started = [startWorker(EU, 'eu-w0'), startWorker(WEST, 'west-w1')];
  await Promise.all(started.map((w) => w.start()));
}, 120_000);

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.stop()));
  await bridge?.stop();
  await mesh?.close();
  await Promise.all((providers ?? []).map((p) => p.close()));
  await cp?.close();
});

const store = () => cp.running.infra.store;
const streamOf = async (name: string): Promise<RecordedEvent[]> => store().readStream(name).catch(() => []);
const ofType = (events: RecordedEvent[], type: string) => events.filter((e) => e.type === type) as RecordedEvent<string, Record<string, string | number>>[];
const l2IdOf = (blob: string) => parseBlob(Buffer.from(blob, 'base64')).l2Id.toString('hex');

async function activeLinkWithSystem() {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId, contacts: [] }) })).status).toBe(201);
  const key = cp.hsm.keys.createAesKey({ label: `l1-${randomUUID().slice(0, 8)}` });
  const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
    token,
    body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: key.ref, algorithm: 'AES', keySize: 256, providerRegion: EU },
  });
  expect(link.status).toBe(201);
  const keyLinkId = link.body.id as string;
  expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} })).status).toBe(200);
  const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token, body: { name: 'ledger', region: EU, keyLinkId } });
  expect(sys.status).toBe(201);
  const workload = await issuer.token({ tenant: tenantId, system: sys.body.id });
  // Every worker serves the system before the test starts asking.
  for (const w of workers) await eventually(() => w.decide({ tenantId, systemId: sys.body.id, operation: 'generate-data-key' }).allowed);
  return { tenantId, keyLinkId, workload };
}

async function dataKey(w: RegionalWorker, workload: string): Promise<{ plaintext: string; ciphertextBlob: string }> {
  const res = await api(w, '/v1/data-keys', workload, {});
  expect(res.status).toBe(200);
  return res.body;
}

async function opens(w: RegionalWorker, workload: string, key: { plaintext: string; ciphertextBlob: string }): Promise<void> {
  const res = await api(w, '/v1/unwrap', workload, { ciphertextBlob: key.ciphertextBlob });
  expect(res).toMatchObject({ status: 200, body: { plaintext: key.plaintext } });
}

describe('key hierarchy on SoftHSM2 with the real control plane, bridge and workers (in-process mesh)', () => {
  it('registers L2 keys as events, rotates L2 and L1 without touching blobs, keeps key material out of events, and revocation wins', async () => {
    const { tenantId, keyLinkId, workload } = await activeLinkWithSystem();
    const [eu, west] = workers;

    // 1. Both workers need an L2 key at once: one is registered (first wins) and both seal under it.
    const [fromEu, fromWest] = await Promise.all([dataKey(eu, workload), dataKey(west, workload)]);
    const generated = ofType(await streamOf(tenantKeyStream(keyLinkId)), 'TenantKeyGenerated');
    expect(generated).toHaveLength(1);
    const v1 = generated[0].data;
    expect(v1).toMatchObject({ keyLinkId, tenantId, l2Version: 1, l2Fingerprint: expect.stringMatching(/^kcv:[0-9a-f]{6}$/), region: expect.any(String), workerId: expect.any(String) });
    expect(l2IdOf(fromEu.ciphertextBlob)).toBe(v1.l2Id);
    expect(l2IdOf(fromWest.ciphertextBlob)).toBe(v1.l2Id);
    const proposals = reports.filter((r) => r.kind === 'tenant-key-generated' && r.keyLinkId === keyLinkId);
    console.log(`[key hierarchy] concurrent first use: ${proposals.length} L2 keys proposed, 1 registered`);
    for (const lost of proposals.filter((p) => p.l2Id !== v1.l2Id)) {
      for (const w of workers) expect(w.l2Cache.keysOf(tenantId).some((k) => k.l2Id.toString('hex') === lost.l2Id)).toBe(false);
    }
    await opens(west, workload, fromEu);
    await opens(eu, workload, fromWest);

    // 2. L2 rotation, key-admin only: new data keys under version 2 only, version 1 still opens its blobs.
    const auditor = await cp.token(['auditor']);
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/rotate-tenant-key`, { token: auditor })).status).toBe(403);
    const rotated = await cp.call('POST', `/v1/key-links/${keyLinkId}/rotate-tenant-key`, { token });
    expect(rotated).toMatchObject({ status: 200, body: { events: ['TenantKeyRotationRequested'] } });
    await eventually(() => workers.every((w) => w.store.get(tenantId)?.served?.keyLinks.get(keyLinkId)?.tenantKeyVersion === 2));
    const afterRotation = [await dataKey(eu, workload), await dataKey(west, workload), await dataKey(eu, workload)];
    const v2 = ofType(await streamOf(tenantKeyStream(keyLinkId)), 'TenantKeyGenerated').find((e) => e.data.l2Version === 2)!.data;
    expect(v2.l2Id).not.toBe(v1.l2Id);
    for (const k of afterRotation) expect(l2IdOf(k.ciphertextBlob)).toBe(v2.l2Id);
    for (const w of workers) for (const k of [fromEu, fromWest, ...afterRotation]) await opens(w, workload, k);

    // 3. L1 rotation (recorded as a health sync would find it): every L2 key re-wrapped once, blobs untouched.
    const l2Keys = workers.flatMap((w) => w.l2Cache.keysOf(tenantId).map((k) => k.key)); // the very buffers the workers hold
    expect(l2Keys.length).toBeGreaterThanOrEqual(4);
    const link = await streamOf(keyLinkStream(keyLinkId));
    const fingerprint = String(ofType(link, 'KeyPossessionProven')[0].data.fingerprint);
    await store().append(
      keyLinkStream(keyLinkId),
      [{ type: 'KeyVersionRotatedAtProvider', data: { keyLinkId, tenantId, keyVersion: 'hsm-v2', fingerprint }, metadata: { actor: { subject: 'cmk:key-health-sync', roles: ['system'] }, occurredAt: new Date().toISOString(), schemaVersion: 1 } }],
      { expectedRevision: link.length - 1 },
    );
    const rewraps = await eventually(async () => {
      const events = ofType(await streamOf(tenantKeyStream(keyLinkId)), 'TenantKeyRewrapped');
      return events.length >= 2 ? events : undefined;
    });
    await sleep(500); // both workers saw the new version: give the slower one time to report as well
    const finalRewraps = ofType(await streamOf(tenantKeyStream(keyLinkId)), 'TenantKeyRewrapped');
    expect(finalRewraps).toHaveLength(2);
    expect(finalRewraps.map((e) => e.data.l2Id).sort()).toEqual([v1.l2Id, v2.l2Id].sort());
    for (const e of rewraps) {
      expect(e.data).toMatchObject({ keyLinkId, tenantId, l1KeyVersion: 'hsm-v2' });
      const original = e.data.l2Id === v1.l2Id ? v1 : v2;
      expect(e.data.wrappedL2).not.toBe(original.wrappedL2);
    }
    const rewrapReports = reports.filter((r) => r.kind === 'tenant-key-rewrapped' && r.keyLinkId === keyLinkId);
    console.log(`[key hierarchy] L1 rotation: ${rewrapReports.length} re-wraps reported by the workers, ${finalRewraps.length} recorded (one per L2 key)`);
    await eventually(() =>
      workers.every((w) => w.store.get(tenantId)?.served?.keyLinks.get(keyLinkId)?.tenantKeys?.every((k) => k.l1KeyVersion === 'hsm-v2')),
    );
    // A worker that starts now holds no L2 key: it opens every old blob through the re-wrapped registry entries.
    const fresh = startWorker(EU, 'eu-fresh');
    await fresh.start();
    await eventually(() => Number.isFinite(fresh.heartbeat.lastHeartbeatAt));
    for (const k of [fromEu, fromWest, ...afterRotation]) await opens(fresh, workload, k);
    expect(l2IdOf((await dataKey(fresh, workload)).ciphertextBlob)).toBe(v2.l2Id);
    l2Keys.push(...fresh.l2Cache.keysOf(tenantId).map((k) => k.key));

    // 4. No event anywhere in the store carries an L2 key or a data key, in any encoding.
    const secrets = [...l2Keys.map((k) => Buffer.from(k)), ...[fromEu, fromWest, ...afterRotation].map((k) => Buffer.from(k.plaintext, 'base64'))];
    expect(secrets.every((s) => s.length === 32 && s.some((b) => b !== 0))).toBe(true);
    const everything = JSON.stringify((await store().readAll({ after: 0n, maxCount: 100_000 })).map(({ streamName, type, data, metadata }) => ({ streamName, type, data, metadata })));
    for (const secret of secrets) {
      for (const encoded of [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')]) expect(everything).not.toContain(encoded);
    }

    // 5. Revocation wins: every L2 key zeroised, every worker denies, and no re-wrap happens any more.
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token, body: { reason: 'customer request' } })).status).toBe(200);
    for (const w of workers) await eventually(async () => (await api(w, '/v1/unwrap', workload, { ciphertextBlob: fromEu.ciphertextBlob })).status === 403);
    expect(l2Keys.every((k) => k.every((b) => b === 0))).toBe(true);
    const revokedLink = await streamOf(keyLinkStream(keyLinkId));
    await store().append(
      keyLinkStream(keyLinkId),
      [{ type: 'KeyVersionRotatedAtProvider', data: { keyLinkId, tenantId, previousVersion: 'hsm-v2', keyVersion: 'hsm-v3', fingerprint }, metadata: { actor: { subject: 'cmk:key-health-sync', roles: ['system'] }, occurredAt: new Date().toISOString(), schemaVersion: 1 } }],
      { expectedRevision: revokedLink.length - 1 },
    );
    await eventually(() => workers.every((w) => w.store.get(tenantId)?.served?.keyLinks.get(keyLinkId)?.l1KeyVersion === 'hsm-v3'));
    await sleep(300);
    expect(reports.filter((r) => r.kind === 'tenant-key-rewrapped' && r.l1KeyVersion === 'hsm-v3')).toEqual([]);
    expect(ofType(await streamOf(tenantKeyStream(keyLinkId)), 'TenantKeyRewrapped')).toHaveLength(2);
  });

  it('refuses an L2 rotation for a link that is not active, and records nothing', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId, contacts: [] }) })).status).toBe(201);
    const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
      token,
      body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=${cp.hsm.hsm.tokenLabel};object=nowhere`, algorithm: 'AES', keySize: 256, providerRegion: EU },
    });
    const refused = await cp.call('POST', `/v1/key-links/${link.body.id}/rotate-tenant-key`, { token });
    expect(refused).toMatchObject({ status: 409, body: { code: 'key-link.not-active', linkStatus: 'pending' } });
    expect((await streamOf(keyLinkStream(link.body.id))).map((e) => e.type)).toEqual(['KeyLinked']);
  });
});
