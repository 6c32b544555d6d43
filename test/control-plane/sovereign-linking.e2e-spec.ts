/**
 * Sovereign linking end to end, against a real SoftHSM2 token as the customer's HSM: link a HYOK key, prove
 * possession (activation), unwrap through regional workers, disable the key at the HSM and see the health sync
 * record it, revoke and see every worker deny; automatic revocation when policy says so; the scheduler finding a
 * problem by itself; refusals that change nothing. The mesh is the in-process one (Kafka has its own suites).
 */
import { randomUUID } from 'node:crypto';
import { InProcessMesh } from '@cmk/mesh';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { api, createWorker, eventually } from '../worker/support/worker-harness';
import { WorkloadIssuer } from '../worker/support/workload-issuer';
import { Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { ALL, approved, tenantBody } from './fixtures';

const EU = 'eu-central-1';
let cp: TestControlPlane;
let token: string;
let mesh: InProcessMesh;
let bridge: MeshBridge;
let workers: RegionalWorker[];
let providers: Pkcs11KeyProvider[];
let issuer: WorkloadIssuer;

beforeAll(async () => {
  issuer = await WorkloadIssuer.create();
  cp = await startTestControlPlane();
  token = await cp.token(ALL);
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  bridge = new MeshBridge({ store: cp.running.infra.store, mesh }, { regions: [EU, 'eu-west-1'], heartbeatMs: 100 });
  await bridge.start();
  providers = [];
  workers = [EU, EU, 'eu-west-1'].map((region, i) => {
    const provider = new Pkcs11KeyProvider({ modulePath: cp.hsm.hsm.modulePath, tokenLabel: cp.hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
    providers.push(provider);
    return createWorker({ mesh, endOffsets: inProcessEndOffsets(mesh), region, workerId: `${region}-w${i}`, issuer, provider });
  });
  await Promise.all(workers.map((w) => w.start()));
}, 120_000);

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.stop()));
  await bridge?.stop();
  await mesh?.close();
  await Promise.all((providers ?? []).map((p) => p.close()));
  await cp?.close();
});

async function onboard(): Promise<string> {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
  return tenantId;
}

/** A fresh AES-256 key in the customer's HSM and a pending HYOK link to it. */
async function linkHsmKey(tenantId: string, over: Record<string, unknown> = {}) {
  const label = `l1-${randomUUID().slice(0, 8)}`;
  const key = cp.hsm.keys.createAesKey({ label });
  const res = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
    token,
    body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: key.ref, algorithm: 'AES', keySize: 256, providerRegion: EU, ...over },
  });
  expect(res.status).toBe(201);
  return { keyLinkId: res.body.id as string, label, ref: key.ref };
}

const linkView = async (keyLinkId: string) => (await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${await storeHead()}`, { token })).body;
/** The link's stream as the audit log shows it, once the audit index has caught up with the store. */
const streamTypes = async (keyLinkId: string) => {
  const res = await cp.call('GET', `/v1/audit/events?stream=keylink-${keyLinkId}&limit=100&minPosition=${await storeHead()}`, { token });
  return (res.body.items as { type: string }[]).map((e) => e.type);
};
const storeHead = async () => (await cp.running.infra.store.headPosition()).toString();

describe('HYOK on a real HSM', () => {
  it('activates only with proof of possession, unwraps through the workers, records a key disabled at the HSM, and every worker denies after the revoke', async () => {
    const tenantId = await onboard();
    const { keyLinkId, label } = await linkHsmKey(tenantId);

    const activated = await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} });
    expect(activated.status).toBe(200);
    expect(activated.body.events).toEqual(['KeyPossessionProven', 'KeyLinkActivated']);
    const view = await eventually(async () => {
      const v = await linkView(keyLinkId);
      return v.status === 'active' && v;
    });
    expect(view).toMatchObject({ health: 'healthy', fingerprint: expect.stringMatching(/^kcv:[0-9a-f]{6}$/) });
    expect(view.lastVerifiedAt).toBeDefined();

    const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token, body: { name: 'billing', region: EU, keyLinkId } });
    expect(sys.status).toBe(201);
    const workload = await issuer.token({ tenant: tenantId, system: sys.body.id });
    const dataKey = await eventually(async () => {
      const r = await api(workers[0], '/v1/data-keys', workload, {});
      return r.status === 200 && r.body;
    });
    for (const w of workers) {
      const plaintext = await eventually(async () => {
        const res = await api(w, '/v1/unwrap', workload, { ciphertextBlob: dataKey.ciphertextBlob });
        return res.status === 200 && (res.body.plaintext as string);
      });
      expect(plaintext).toBe(dataKey.plaintext);
    }

    // The customer disables the key in their HSM; the on-demand sync records it (policy default: warn).
    cp.hsm.keys.setUsage(label, { encrypt: false, decrypt: false });
    const sync = await cp.call('POST', `/v1/key-links/${keyLinkId}/sync`, { token });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({ observation: { condition: 'disabled' }, events: ['KeyLinkDegraded'] });
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/sync`, { token })).body.events).toEqual([]);
    expect(await eventually(async () => (await linkView(keyLinkId)).health === 'disabled')).toBe(true);

    // Re-enabled: the next sync records the recovery.
    cp.hsm.keys.setUsage(label, { encrypt: true, decrypt: true });
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/sync`, { token })).body).toMatchObject({ observation: { condition: 'healthy' }, events: ['KeyLinkHealthRestored'] });

    // Kill switch: revoke, and every worker denies.
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token, body: { reason: 'customer request' } })).status).toBe(200);
    for (const w of workers) {
      await eventually(async () => (await api(w, '/v1/unwrap', workload, { ciphertextBlob: dataKey.ciphertextBlob })).status === 403);
    }
    expect(await streamTypes(keyLinkId)).toEqual(['KeyLinked', 'KeyPossessionProven', 'KeyLinkActivated', 'KeyLinkDegraded', 'KeyLinkHealthRestored', 'KeyLinkRevoked']);
  });

  it('revokes automatically when the tenant policy says hyokHealth.onProblem = revoke, and the workers deny', async () => {
    const tenantId = await onboard();
    const { keyLinkId, label } = await linkHsmKey(tenantId);
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} })).status).toBe(200);
    const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token, body: { name: 'ledger', region: EU, keyLinkId } });
    const workload = await issuer.token({ tenant: tenantId, system: sys.body.id });
    const dataKey = await eventually(async () => {
      const r = await api(workers[1], '/v1/data-keys', workload, {});
      return r.status === 200 && r.body;
    });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name: `strict-${tenantId}`, document: { hyokHealth: { onProblem: 'revoke' } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: tenantId } }));

    cp.hsm.keys.destroy(label);
    const sync = await cp.call('POST', `/v1/key-links/${keyLinkId}/sync`, { token });
    expect(sync.body).toMatchObject({ observation: { condition: 'not-found' }, events: ['KeyLinkDegraded', 'KeyLinkRevoked'] });
    const audit = (await cp.call('GET', `/v1/audit/events?stream=keylink-${keyLinkId}&type=KeyLinkRevoked&minPosition=${await storeHead()}`, { token })).body.items;
    expect(audit[0].data).toMatchObject({ automatic: true, reason: expect.stringContaining(`policy ${policy.id}`) });
    for (const w of workers) {
      await eventually(async () => (await api(w, '/v1/unwrap', workload, { ciphertextBlob: dataKey.ciphertextBlob })).status === 403);
    }
  });

  it('refuses activation when the key is missing, of another size, or disabled, and records nothing', async () => {
    const tenantId = await onboard();
    const missing = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
      token,
      body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=${cp.hsm.hsm.tokenLabel};object=no-such-key`, algorithm: 'AES', keySize: 256, providerRegion: EU },
    });
    const notFound = await cp.call('POST', `/v1/key-links/${missing.body.id}/activate`, { token, body: {} });
    expect(notFound.status).toBe(422);
    expect(notFound.headers.get('content-type')).toContain('application/problem+json');
    expect(notFound.body).toMatchObject({ code: 'provider.key-not-found' });

    const wrongSize = await linkHsmKey(tenantId, { keySize: 128 });
    const mismatch = await cp.call('POST', `/v1/key-links/${wrongSize.keyLinkId}/activate`, { token, body: {} });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body).toMatchObject({ code: 'key-link.key-mismatch', provider: 'AES-256', declared: 'AES-128' });

    const disabled = await linkHsmKey(tenantId);
    cp.hsm.keys.setUsage(disabled.label, { encrypt: false, decrypt: false });
    const refused = await cp.call('POST', `/v1/key-links/${disabled.keyLinkId}/activate`, { token, body: {} });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('provider.key-disabled');

    for (const id of [missing.body.id, wrongSize.keyLinkId, disabled.keyLinkId]) {
      expect(await eventually(async () => (await linkView(id)).status)).toBe('pending');
      expect(await streamTypes(id)).toEqual(['KeyLinked']);
    }
  });

  it('refuses a credential in place of a credential reference, without echoing it', async () => {
    const tenantId = await onboard();
    const res = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
      token,
      body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026', algorithm: 'AES', keySize: 256, providerRegion: EU, credentialRef: '123456' },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('123456');
    expect(res.body.errors[0].field).toBe('credentialRef');
  });

  it("refuses a link's credential reference that no resolver here can read, naming the setting, never a secret", async () => {
    // (A PIN reference per link cannot be shown on one SoftHSM2 token: PKCS#11 login state is per token and
    // process, so once the control plane is logged in, every session on that token is.)
    const tenantId = await onboard();
    const secretStore = await linkHsmKey(tenantId, { credentialRef: 'secret:acme/hsm-pin' });
    const unsupported = await cp.call('POST', `/v1/key-links/${secretStore.keyLinkId}/activate`, { token, body: {} });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body).toMatchObject({ code: 'provider.credential-reference', setting: 'CMK_PKCS11_PIN_REF' });
    expect(JSON.stringify(unsupported.body)).not.toContain(cp.hsm.hsm.pin);
    expect(await streamTypes(secretStore.keyLinkId)).toEqual(['KeyLinked']);
  });

  it('rotation is refused by a PKCS#11 token (no key versions) with a clear problem, and nothing is recorded', async () => {
    const tenantId = await onboard();
    const { keyLinkId } = await linkHsmKey(tenantId);
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} })).status).toBe(200);
    const res = await cp.call('POST', `/v1/key-links/${keyLinkId}/rotate`, { token });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('provider.unsupported-operation');
    expect(await streamTypes(keyLinkId)).toEqual(['KeyLinked', 'KeyPossessionProven', 'KeyLinkActivated']);
  });
});

describe('the health sync scheduler', () => {
  it('finds a key disabled at the HSM by itself and records it once', async () => {
    const scheduled = await startTestControlPlane({ env: { CMK_KEY_HEALTH_SYNC_INTERVAL_MS: '150' } });
    try {
      const t = await scheduled.token(ALL);
      const tenantId = randomUUID();
      expect((await scheduled.call('POST', '/v1/tenants', { token: t, body: tenantBody({ tenantId }) })).status).toBe(201);
      const label = `sched-${randomUUID().slice(0, 8)}`;
      const key = scheduled.hsm.keys.createAesKey({ label });
      const link = await scheduled.call('POST', `/v1/tenants/${tenantId}/key-links`, {
        token: t,
        body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: key.ref, algorithm: 'AES', keySize: 256, providerRegion: EU },
      });
      expect((await scheduled.call('POST', `/v1/key-links/${link.body.id}/activate`, { token: t, body: {} })).status).toBe(200);
      scheduled.hsm.keys.setUsage(label, { encrypt: false, decrypt: false });
      const degraded = await eventually(async () => {
        const items = (await scheduled.call('GET', `/v1/audit/events?stream=keylink-${link.body.id}&type=KeyLinkDegraded`, { token: t })).body.items;
        return items.length > 0 && items;
      }, 15_000, 100);
      expect(degraded[0].data).toMatchObject({ condition: 'disabled', action: 'warn' });
      expect(degraded[0].metadata.actor.subject).toBe('cmk:key-health-sync');
      await new Promise((r) => setTimeout(r, 600));
      const again = (await scheduled.call('GET', `/v1/audit/events?stream=keylink-${link.body.id}&type=KeyLinkDegraded`, { token: t })).body.items;
      expect(again).toHaveLength(1);
    } finally {
      await scheduled.close();
    }
  });
});
