/**
 * The regional worker on the in-process mesh (embedded mode) with a real SoftHSM2 token as the tenants' L1.
 * Orbital messages come from a test publisher standing in for the mesh bridge. Several workers share the
 * process, as in embedded mode.
 */
import { randomBytes } from 'node:crypto';
import { InProcessMesh, ReceivedMessage } from '@cmk/mesh';
import { AckMessage, decodeMessage, UsageMessage } from '@cmk/orbital';
import { parseBlob } from '../../apps/regional-worker/src/crypto/envelope';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { GatedMesh } from './support/gated-mesh';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { api, createWorker, eventually, keyLink, sleep, tenantView, TestHsm, WorkerSetup } from './support/worker-harness';
import { WorkloadIssuer } from './support/workload-issuer';

const EU = 'eu-central-1';
const US = 'us-east-1';
const AP = 'ap-south-1';

let hsm: TestHsm;
let issuer: WorkloadIssuer;
let l1a: string;
let l1b: string;
let mesh: InProcessMesh;
let publisher: OrbitalTestPublisher;
let workers: RegionalWorker[];

beforeAll(async () => {
  hsm = await TestHsm.create();
  l1a = hsm.l1Key('tenant-a-l1').ref;
  l1b = hsm.l1Key('tenant-b-l1').ref;
  issuer = await WorkloadIssuer.create();
}, 60_000);

afterAll(async () => {
  await hsm?.close();
});

beforeEach(async () => {
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  publisher = await OrbitalTestPublisher.create(mesh, '', [EU, US, AP]);
  workers = [];
});

afterEach(async () => {
  await publisher.stopHeartbeats();
  await Promise.all(workers.map((w) => w.stop()));
  await mesh.close();
});

function worker(region: string, over: Partial<WorkerSetup> = {}): RegionalWorker {
  const w = createWorker({ mesh, endOffsets: inProcessEndOffsets(mesh), region, workerId: `${region}-w${workers.length}`, issuer, provider: hsm.provider(), ...over });
  workers.push(w);
  return w;
}

async function started(region: string, over: Partial<WorkerSetup> = {}): Promise<RegionalWorker> {
  const w = worker(region, over);
  await w.start();
  await eventually(() => Number.isFinite(w.heartbeat.lastHeartbeatAt));
  return w;
}

const decision = (w: RegionalWorker, tenantId: string, systemId: string, keyLinkId?: string) => {
  const d = w.decide({ tenantId, systemId, keyLinkId, operation: 'unwrap' });
  return d.allowed ? 'allowed' : d.reason;
};

function collect<T>(topic: string, kind: 'revocation-enforced' | 'usage'): { messages: T[]; ready: Promise<unknown> } {
  const messages: T[] = [];
  const ready = mesh.subscribe(topic, { fromBeginning: true }, async (m: ReceivedMessage) => {
    messages.push(decodeMessage(m.value, kind) as T);
  });
  return { messages, ready };
}

const tenantA = () => tenantView('tenant-a', [keyLink('k1', l1a), keyLink('k2', l1a)]);

describe('bootstrap and readiness', () => {
  it('bootstraps from the compacted state topic (region filter included), then follows its delta topic', async () => {
    await publisher.state({ ...tenantA(), keyLinks: { k1: keyLink('k1', l1a) }, systems: { 'sys-k1': { systemId: 'sys-k1', keyLinkId: 'k1', region: EU } } }, { stateTopicOnly: true });
    await publisher.state(tenantA(), { stateTopicOnly: true }); // compaction keeps this one
    await publisher.state(tenantView('tenant-us', [keyLink('u1', l1b)], { allowedRegions: [US] }), { stateTopicOnly: true });
    await publisher.state(tenantView('tenant-gone', [keyLink('g1', l1b)], { status: 'offboarded' }), { stateTopicOnly: true, removed: true });
    await publisher.startHeartbeats(100);

    const eu = await started(EU);
    expect(eu.ready).toBe(true);
    expect(eu.store.servedTenants).toBe(1);
    expect(decision(eu, 'tenant-a', 'sys-k2')).toBe('allowed');
    expect(decision(eu, 'tenant-us', 'sys-u1')).toBe('region-not-allowed');
    expect(decision(eu, 'tenant-gone', 'sys-g1')).toBe('tenant-offboarded');
    expect(decision(eu, 'nobody', 'sys')).toBe('unknown-tenant');

    await publisher.state({ ...tenantA(), status: 'suspended' });
    await publisher.state(tenantView('tenant-new', [keyLink('n1', l1b)]));
    await eventually(() => decision(eu, 'tenant-a', 'sys-k1') === 'tenant-suspended');
    await eventually(() => decision(eu, 'tenant-new', 'sys-n1') === 'allowed');
  });

  it('is ready only once it has read the state topic to its end: not-ready before, over HTTP too', async () => {
    for (let i = 0; i < 50; i++) await publisher.state(tenantView(`t${i}`, [keyLink(`k${i}`, l1a)]), { stateTopicOnly: true });
    await publisher.startHeartbeats(100);
    const gated = new GatedMesh(mesh);
    gated.hold(publisher.topics.state);
    const w = worker(EU, { mesh: gated });
    const starting = w.start();
    await eventually(() => w.url);
    await eventually(() => Number.isFinite(w.heartbeat.lastHeartbeatAt));

    const health = await api(w, '/health/ready', undefined, undefined, 'GET');
    expect(health).toMatchObject({ status: 503, body: { status: 'not-ready', caughtUp: false } });
    const refused = await api(w, '/v1/data-keys', await issuer.token({ tenant: 't1', system: 'sys-k1' }), {});
    expect(refused).toMatchObject({ status: 503, body: { reason: 'not-ready', status: 503 } });
    expect(refused.headers.get('content-type')).toBe('application/problem+json');

    gated.release(publisher.topics.state);
    await starting;
    expect(w.store.servedTenants).toBe(50);
    expect(await api(w, '/health/ready', undefined, undefined, 'GET')).toMatchObject({ status: 200, body: { status: 'ready', caughtUp: true, tenants: 50 } });
    expect((await api(w, '/v1/data-keys', await issuer.token({ tenant: 't1', system: 'sys-k1' }), {})).status).toBe(200);
    expect((await api(w, '/health/live', undefined, undefined, 'GET')).status).toBe(200);
  });
});

describe('data keys through SoftHSM2', () => {
  it('generates, unwraps and wraps; a second region\'s worker opens the blob; a fenced-out region is refused', async () => {
    await publisher.state({ ...tenantA(), allowedRegions: [EU, US] });
    await publisher.startHeartbeats(100);
    const apProvider = hsm.provider();
    const apCalls = [jest.spyOn(apProvider, 'unwrap'), jest.spyOn(apProvider, 'wrap')];
    const [eu, us, ap] = await Promise.all([started(EU), started(US), started(AP, { provider: apProvider })]);
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });

    const generated = await api(eu, '/v1/data-keys', token, {});
    expect(generated.status).toBe(200);
    expect(generated.headers.get('cache-control')).toBe('no-store');
    expect(generated.body.keyLinkId).toBe('k1');
    const dataKey = Buffer.from(generated.body.plaintext, 'base64');
    expect(dataKey).toHaveLength(32);
    const blob = Buffer.from(generated.body.ciphertextBlob, 'base64');
    expect(parseBlob(blob)).toMatchObject({ version: 2, keyLinkId: 'k1' });
    expect(parseBlob(blob).l2Id.toString('hex')).toBe(publisher.tenantKeys('k1')[0].l2Id); // registered before it sealed

    expect((await api(eu, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob })).body).toEqual({ keyLinkId: 'k1', plaintext: generated.body.plaintext });
    const secret = randomBytes(100).toString('base64');
    const wrapped = await api(eu, '/v1/wrap', token, { plaintext: secret });
    expect(wrapped.status).toBe(200);
    expect((await api(eu, '/v1/unwrap', token, { ciphertextBlob: wrapped.body.ciphertextBlob })).body.plaintext).toBe(secret);

    // Another region's worker, with its own provider session on the same L1: the registry in its view names the L2 key.
    expect((await api(us, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob })).body).toEqual({ keyLinkId: 'k1', plaintext: generated.body.plaintext });

    const fenced = await api(ap, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob });
    expect(fenced).toMatchObject({ status: 403, body: { reason: 'region-not-allowed', type: 'https://openkcm.dev/problems/region-not-allowed' } });
    expect(apCalls.map((c) => c.mock.calls.length)).toEqual([0, 0]); // a denial never touches the provider
    expect(ap.l2Cache.size).toBe(0);
  });

  it('binds blobs to tenant and system, and refuses changed or unreadable blobs', async () => {
    await publisher.state(tenantA());
    await publisher.state(tenantView('tenant-b', [keyLink('b1', l1b)]));
    await publisher.startHeartbeats(100);
    const eu = await started(EU);
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const { body } = await api(eu, '/v1/data-keys', token, { numberOfBytes: 16 });
    expect(Buffer.from(body.plaintext, 'base64')).toHaveLength(16);

    const otherSystem = await issuer.token({ tenant: 'tenant-a', system: 'sys-k2' });
    expect(await api(eu, '/v1/unwrap', otherSystem, { ciphertextBlob: body.ciphertextBlob })).toMatchObject({ status: 422, body: { reason: 'invalid-ciphertext' } });
    const otherTenant = await issuer.token({ tenant: 'tenant-b', system: 'sys-b1' });
    expect(await api(eu, '/v1/unwrap', otherTenant, { ciphertextBlob: body.ciphertextBlob })).toMatchObject({ status: 403, body: { reason: 'key-link-not-active' } });
    const tampered = Buffer.from(body.ciphertextBlob, 'base64');
    tampered[tampered.length - 1] ^= 1;
    expect(await api(eu, '/v1/unwrap', token, { ciphertextBlob: tampered.toString('base64') })).toMatchObject({ status: 422, body: { reason: 'invalid-ciphertext' } });
    expect(await api(eu, '/v1/unwrap', token, { ciphertextBlob: 'AAAA' })).toMatchObject({ status: 400, body: { reason: 'malformed-blob' } });
    expect(await api(eu, '/v1/wrap', token, { plaintext: 'not base64!' })).toMatchObject({ status: 400, body: { reason: 'invalid-request' } });
    expect(await api(eu, '/v1/data-keys', token, { numberOfBytes: 1000 })).toMatchObject({ status: 400, body: { reason: 'invalid-request' } });
  });

  it('authenticates workload tokens: they must name one tenant and one system, for the worker audience, and expire', async () => {
    await publisher.state(tenantA());
    await publisher.startHeartbeats(100);
    const eu = await started(EU);
    const cases: [string | undefined, string][] = [
      [undefined, 'a Bearer token is required'],
      ['garbage', 'token is malformed'],
      [await issuer.token({ tenant: 'tenant-a', system: 'sys-k1', audience: 'openkcm-cmk' }), 'token claim "aud" is invalid'],
      [await issuer.token({ tenant: 'tenant-a' }), 'claim cmk_system'],
      [await issuer.token({ system: 'sys-k1' }), 'exactly one tenant'],
      [await issuer.token({ tenant: 'tenant-a other', system: 'sys-k1' }), 'exactly one tenant'],
      [await issuer.token({ tenant: 'tenant-a', system: 'sys-k1', ttlSeconds: null }), 'must expire'],
      [await issuer.token({ system: 'sys-k1', extra: { roles: ['platform-operator'] } }), 'exactly one tenant'],
      [await issuer.token({ tenant: 'tenant-a', system: 'sys-k1', ttlSeconds: -60 }), 'token expired'],
    ];
    for (const [token, detail] of cases) {
      const res = await api(eu, '/v1/data-keys', token, {});
      expect(res).toMatchObject({ status: 401, body: { reason: 'unauthenticated' } });
      expect(res.body.detail).toContain(detail);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await api(eu, '/v1/wrap', undefined, undefined, 'GET')).status).toBe(405);
    expect(await api(eu, '/v1/nothing', undefined, {})).toMatchObject({ status: 404, body: { reason: 'not-found' } });
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const res = await fetch(eu.url + '/v1/data-keys', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{oops' });
    expect(res.status).toBe(400);
  });
});

describe('revocation', () => {
  it('zeroises the link\'s L2 keys at once, denies from that moment, and acks with enforcedAt', async () => {
    await publisher.state(tenantA());
    await publisher.startHeartbeats(100);
    const eu = await started(EU);
    const k1Token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const k2Token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k2' });
    expect((await api(eu, '/v1/data-keys', k1Token, {})).status).toBe(200);
    expect((await api(eu, '/v1/data-keys', k2Token, {})).status).toBe(200);
    const [k1Key] = eu.l2Cache.keysOf('tenant-a').filter((k) => k.keyLinkId === 'k1');
    const [k2Key] = eu.l2Cache.keysOf('tenant-a').filter((k) => k.keyLinkId === 'k2');
    const k1Material = k1Key.key; // a reference to the very buffer the worker holds
    expect(k1Material.some((b) => b !== 0)).toBe(true);

    // What the worker enforces at the moment its ack reaches the mesh.
    const seen: { ack: AckMessage; zeroised: boolean; decision: string }[] = [];
    await mesh.subscribe(publisher.topics.acks, { fromBeginning: true }, async (m) => {
      seen.push({ ack: decodeMessage(m.value, 'revocation-enforced'), zeroised: k1Material.every((b) => b === 0), decision: decision(eu, 'tenant-a', 'sys-k1') });
    });
    const before = Date.now();
    const revocation = await publisher.revocation({ tenantId: 'tenant-a', keyLinkId: 'k1', cause: 'KeyLinkRevoked' });
    await eventually(() => seen.length === 1);
    expect(seen[0]).toEqual({
      ack: { kind: 'revocation-enforced', workerId: eu.workerId, region: EU, tenantId: 'tenant-a', keyLinkId: 'k1', cause: 'KeyLinkRevoked', revocationPosition: revocation.position, enforcedAt: expect.any(String) },
      zeroised: true,
      decision: 'key-link-revoked',
    });
    const enforcedAt = Date.parse(seen[0].ack.enforcedAt);
    expect(enforcedAt).toBeGreaterThanOrEqual(before);
    expect(enforcedAt).toBeLessThanOrEqual(Date.now());
    expect(k1Key.zeroised).toBe(true);
    expect(k2Key.key.some((b) => b !== 0)).toBe(true); // the other link keeps its key

    expect(await api(eu, '/v1/data-keys', k1Token, {})).toMatchObject({ status: 403, body: { reason: 'key-link-revoked' } });
    expect((await api(eu, '/v1/data-keys', k2Token, {})).status).toBe(200);

    await publisher.revocation({ tenantId: 'tenant-a', cause: 'TenantSuspended' });
    await eventually(() => seen.length === 2);
    expect(seen[1].ack).toMatchObject({ cause: 'TenantSuspended', tenantId: 'tenant-a' });
    expect(seen[1].ack.keyLinkId).toBeUndefined();
    expect(k2Key.key.every((b) => b === 0)).toBe(true);
    expect(eu.l2Cache.keysOf('tenant-a')).toHaveLength(0);
    expect(await api(eu, '/v1/data-keys', k2Token, {})).toMatchObject({ status: 403, body: { reason: 'tenant-suspended' } });

    const metrics = (await api(eu, '/metrics', undefined, undefined, 'GET')).body as string;
    expect(metrics).toContain('cmk_worker_revocations_applied_total{cause="KeyLinkRevoked"} 1');
    expect(metrics).toContain('cmk_worker_revocations_applied_total{cause="TenantSuspended"} 1');
    expect(metrics).toMatch(/cmk_worker_decisions_total\{operation="generate-data-key",outcome="deny",reason="key-link-revoked"\} 1/);
    expect(metrics).toMatch(/cmk_worker_decisions_total\{operation="generate-data-key",outcome="allow",reason="allowed"\} 3/);
    expect(metrics).toMatch(/cmk_worker_view_staleness_seconds 0\.\d+/);
    expect(metrics).toContain('cmk_worker_acks_published_total 2');
  });

  it('drops duplicate and old messages by position; an older state does not resurrect a revoked link, a newer one restores it', async () => {
    await publisher.startHeartbeats(100);
    const eu = await started(EU);
    const acks = collect<AckMessage>(publisher.topics.acks, 'revocation-enforced');
    await acks.ready;
    await publisher.state(tenantA(), { position: 10 });
    await publisher.state({ ...tenantA(), status: 'suspended' }, { position: 12 });
    await eventually(() => decision(eu, 'tenant-a', 'sys-k1') === 'tenant-suspended');
    await publisher.state(tenantA(), { position: 11 }); // old
    await publisher.state(tenantA(), { position: 12 }); // duplicate position
    await publisher.state({ ...tenantA(), jurisdiction: 'marker' }, { position: 9 }); // older still
    await publisher.state({ ...tenantA(), status: 'suspended', homeRegion: 'marker' }, { position: 13 });
    await eventually(() => eu.store.get('tenant-a')?.served?.view.homeRegion === 'marker');
    expect(decision(eu, 'tenant-a', 'sys-k1')).toBe('tenant-suspended');
    expect(eu.store.get('tenant-a')?.served?.view.jurisdiction).toBe('EU');

    await publisher.state(tenantA(), { position: 14 });
    const revocation = await publisher.revocation({ tenantId: 'tenant-a', keyLinkId: 'k1', cause: 'KeyLinkRevoked', position: 20 });
    await publisher.revocation({ tenantId: 'tenant-a', keyLinkId: 'k1', cause: 'KeyLinkRevoked', position: 20 }); // redelivered
    await publisher.revocation({ tenantId: 'tenant-a', keyLinkId: 'k2', cause: 'KeyLinkRevoked', position: 21 });
    await eventually(() => acks.messages.some((a) => a.revocationPosition === '21'));
    expect(acks.messages.filter((a) => a.revocationPosition === revocation.position)).toHaveLength(1);

    // The state of an event between 14 and the revocation (20) arrives late: it must not resurrect k1.
    await publisher.state({ ...tenantA(), homeRegion: 'late' }, { position: 19 });
    await eventually(() => eu.store.get('tenant-a')?.served?.view.homeRegion === 'late');
    expect(decision(eu, 'tenant-a', 'sys-k1')).toBe('key-link-revoked');
    expect(decision(eu, 'tenant-a', 'sys-k2')).toBe('key-link-revoked');
    // A state at or above the revocation is authoritative: here k1 was restored after it.
    await publisher.state({ ...tenantA(), keyLinks: { k1: keyLink('k1', l1a), k2: keyLink('k2', l1a, 'revoked') } }, { position: 22 });
    await eventually(() => decision(eu, 'tenant-a', 'sys-k1') === 'allowed');
    expect(decision(eu, 'tenant-a', 'sys-k2')).toBe('key-link-revoked');
  });
});

describe('fail closed', () => {
  it('denies with stale-view within maxStaleness + 100 ms of being cut off from the mesh, and recovers', async () => {
    const maxStalenessMs = 500;
    await publisher.state({ ...tenantA(), maxStalenessMs });
    await publisher.startHeartbeats(50);
    const gated = new GatedMesh(mesh);
    const eu = await started(EU, { mesh: gated });
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const plaintext = randomBytes(32).toString('base64');
    expect((await api(eu, '/v1/wrap', token, { plaintext })).status).toBe(200);

    gated.pause(); // the worker hears nothing more: no heartbeats, no deltas, no revocations
    const pausedAt = performance.now();
    let res;
    for (;;) {
      res = await api(eu, '/v1/wrap', token, { plaintext });
      if (res.status !== 200) break;
      expect(performance.now() - eu.heartbeat.lastHeartbeatAt).toBeLessThanOrEqual(maxStalenessMs + 50); // never allowed past the bound
      await sleep(2);
    }
    const deniedAt = performance.now();
    expect(res).toMatchObject({ status: 503, body: { reason: 'stale-view' } });
    expect(res.headers.get('retry-after')).toBe('1');
    const sinceHeard = deniedAt - eu.heartbeat.lastHeartbeatAt;
    expect(sinceHeard).toBeGreaterThan(maxStalenessMs);
    expect(sinceHeard).toBeLessThanOrEqual(maxStalenessMs + 100);
    expect(deniedAt - pausedAt).toBeLessThanOrEqual(maxStalenessMs + 100);
    expect((await api(eu, '/health/ready', undefined, undefined, 'GET')).status).toBe(200); // under the 2 s default

    gated.resume();
    await eventually(async () => (await api(eu, '/v1/wrap', token, { plaintext })).status === 200, 2_000, 5);
  });
});

describe('usage and malformed messages', () => {
  it('publishes usage per tenant, system, operation and outcome, each report with its own id', async () => {
    await publisher.state(tenantA());
    await publisher.startHeartbeats(100);
    const eu = await started(EU, { usageIntervalMs: 200 });
    const usage = collect<UsageMessage>(publisher.topics.usage, 'usage');
    await usage.ready;
    const k1 = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const stranger = await issuer.token({ tenant: 'tenant-a', system: 'sys-unknown' });
    const { body } = await api(eu, '/v1/data-keys', k1, {});
    await api(eu, '/v1/data-keys', k1, {});
    await api(eu, '/v1/unwrap', k1, { ciphertextBlob: body.ciphertextBlob });
    await api(eu, '/v1/wrap', stranger, { plaintext: 'AAAA' });
    const total = (tenant: string, system: string, operation: string, outcome: string) =>
      usage.messages.flatMap((m) => m.counts).filter((c) => c.tenantId === tenant && c.systemId === system && c.operation === operation && c.outcome === outcome).reduce((n, c) => n + c.count, 0);
    await eventually(() => total('tenant-a', 'sys-unknown', 'wrap', 'denied') === 1, 3_000);
    expect(total('tenant-a', 'sys-k1', 'generate-data-key', 'allowed')).toBe(2);
    expect(total('tenant-a', 'sys-k1', 'unwrap', 'allowed')).toBe(1);
    expect(new Set(usage.messages.map((m) => m.reportId)).size).toBe(usage.messages.length);
    expect(usage.messages[0]).toMatchObject({ kind: 'usage', workerId: eu.workerId, region: EU });
  });

  it('skips and counts messages it cannot decode, and keeps following', async () => {
    await publisher.startHeartbeats(100);
    const eu = await started(EU);
    await publisher.raw(workersDeltas(EU), 'tenant-a', '{not json');
    await publisher.raw(publisher.topics.revocations, 'tenant-a', JSON.stringify({ kind: 'revocation', position: 'x', tenantId: 'tenant-a' }));
    await publisher.state(tenantA());
    await eventually(() => decision(eu, 'tenant-a', 'sys-k1') === 'allowed');
    const metrics = (await api(eu, '/metrics', undefined, undefined, 'GET')).body as string;
    expect(metrics).toContain(`cmk_worker_messages_rejected_total{topic="${workersDeltas(EU)}"} 1`);
    expect(metrics).toContain(`cmk_worker_messages_rejected_total{topic="${publisher.topics.revocations}"} 1`);
  });
});

function workersDeltas(region: string): string {
  return `cmk.region.${region}.deltas`;
}
