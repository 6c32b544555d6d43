/**
 * The regional worker on a real Kafka broker (CMK_TEST_KAFKA_BROKERS, started by the jest global setup) with a
 * real SoftHSM2 token as the tenants' L1. Topics live under a fresh prefix, so nothing here meets another
 * suite's messages. Each worker gets its own KafkaMesh, as separate processes would.
 */
import { randomBytes } from 'node:crypto';
import { KafkaMesh, MeshLogger } from '@cmk/mesh';
import { AckMessage, decodeMessage } from '@cmk/orbital';
import { testKafkaBrokers } from '@cmk/testing/kafka';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { EndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { kafkaEndOffsets } from '../../apps/regional-worker/src/view/kafka-end-offsets';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { api, createWorker, eventually, keyLink, sleep, tenantView, TestHsm } from './support/worker-harness';
import { WorkloadIssuer } from './support/workload-issuer';

const EU = 'eu-central-1';
const US = 'us-east-1';
const quiet: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

let brokers: string[];
let hsm: TestHsm;
let issuer: WorkloadIssuer;
let l1: string;
let prefix: string;
let publisherMesh: KafkaMesh;
let publisher: OrbitalTestPublisher;
let endOffsets: EndOffsets;
const running: { worker: RegionalWorker; mesh: KafkaMesh }[] = [];

beforeAll(async () => {
  brokers = testKafkaBrokers();
  hsm = await TestHsm.create();
  l1 = hsm.l1Key('tenant-l1').ref;
  issuer = await WorkloadIssuer.create();
  endOffsets = kafkaEndOffsets(brokers);
}, 60_000);

beforeEach(async () => {
  prefix = `w${randomBytes(5).toString('hex')}.`;
  publisherMesh = new KafkaMesh({ brokers, clientId: 'worker-test-bridge', logger: quiet });
  publisher = await OrbitalTestPublisher.create(publisherMesh, prefix, [EU, US]);
});

afterEach(async () => {
  await publisher.stopHeartbeats();
  await Promise.all(running.splice(0).map(async ({ worker, mesh }) => {
    await worker.stop();
    await mesh.close();
  }));
  await publisherMesh.close();
});

afterAll(async () => {
  await endOffsets?.close();
  await hsm?.close();
});

function worker(region: string, workerId: string, over: { usageIntervalMs?: number } = {}): RegionalWorker {
  const mesh = new KafkaMesh({ brokers, clientId: `worker-${workerId}`, logger: quiet });
  const w = createWorker({ mesh, endOffsets, region, workerId, topicPrefix: prefix, issuer, provider: hsm.provider(), ...over });
  running.push({ worker: w, mesh });
  return w;
}

async function stopWorker(w: RegionalWorker): Promise<void> {
  const index = running.findIndex((r) => r.worker === w);
  const [{ mesh }] = running.splice(index, 1);
  await w.stop();
  await mesh.close();
}

const heard = (w: RegionalWorker) => eventually(() => Number.isFinite(w.heartbeat.lastHeartbeatAt));
const decision = (w: RegionalWorker, tenantId: string, systemId: string) => {
  const d = w.decide({ tenantId, systemId, operation: 'unwrap' });
  return d.allowed ? 'allowed' : d.reason;
};

describe('regional worker on Kafka', () => {
  it('bootstraps from the compacted state topic and the revocation lane: ready means every tenant is there', async () => {
    const tenants = 300;
    for (let i = 0; i < tenants; i++) {
      const fenced = i % 10 === 0;
      await publisher.state(tenantView(`t${i}`, [keyLink(`k${i}`, l1)], { allowedRegions: fenced ? [US] : null }), { stateTopicOnly: true });
    }
    await publisher.state(tenantView('t1', [keyLink('k1', l1)], { status: 'suspended' }), { stateTopicOnly: true }); // a newer version
    // Revoked, but the state message of that event is not out yet: only the revocation lane knows.
    await publisher.revocation({ tenantId: 't2', keyLinkId: 'k2', cause: 'KeyLinkRevoked' });
    await publisher.startHeartbeats(100);

    const eu = worker(EU, 'eu-1');
    expect(eu.ready).toBe(false);
    const started = Date.now();
    await eu.start();
    const bootstrapMs = Date.now() - started;
    expect(eu.ready).toBe(true);
    expect(eu.store.servedTenants).toBe(tenants - tenants / 10);
    await heard(eu);
    expect(decision(eu, 't3', 'sys-k3')).toBe('allowed');
    expect(decision(eu, 't10', 'sys-k10')).toBe('region-not-allowed');
    expect(decision(eu, 't1', 'sys-k1')).toBe('tenant-suspended');
    expect(decision(eu, 't2', 'sys-k2')).toBe('key-link-revoked');

    await publisher.state(tenantView('t3', [keyLink('k3', l1)], { status: 'suspended' }));
    await publisher.state(tenantView('fresh', [keyLink('f1', l1)]));
    await eventually(() => decision(eu, 't3', 'sys-k3') === 'tenant-suspended' && decision(eu, 'fresh', 'sys-f1') === 'allowed');
    console.log(`[worker kafka] bootstrap of ${tenants + 2} state/revocation messages: ready after ${bootstrapMs} ms`);
  });

  it('round-trips data keys through SoftHSM2, across regions, and enforces a revocation with an ack', async () => {
    await publisher.state(tenantView('tenant-a', [keyLink('k1', l1), keyLink('k2', l1)], { allowedRegions: [EU, US] }));
    await publisher.startHeartbeats(100);
    const [eu, us] = [worker(EU, 'eu-1'), worker(US, 'us-1')];
    await Promise.all([eu.start(), us.start()]);
    await Promise.all([heard(eu), heard(us)]);
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const generated = await api(eu, '/v1/data-keys', token, {});
    expect(generated.status).toBe(200);
    expect((await api(us, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob })).body.plaintext).toBe(generated.body.plaintext);
    const l2 = eu.l2Cache.keysOf('tenant-a')[0].key;

    const acks: AckMessage[] = [];
    const ackSubscription = await publisherMesh.subscribe(publisher.topics.acks, { fromBeginning: true }, async (m) => {
      acks.push(decodeMessage(m.value, 'revocation-enforced'));
    });
    const sent = Date.now();
    const revocation = await publisher.revocation({ tenantId: 'tenant-a', keyLinkId: 'k1', cause: 'KeyLinkRevoked' });
    await eventually(() => acks.length === 2);
    const ackMs = Date.now() - sent;
    await ackSubscription.stop();
    expect(acks.map((a) => a.workerId).sort()).toEqual(['eu-1', 'us-1']);
    for (const ack of acks) expect(ack).toMatchObject({ tenantId: 'tenant-a', keyLinkId: 'k1', revocationPosition: revocation.position, cause: 'KeyLinkRevoked' });
    expect(l2.every((b) => b === 0)).toBe(true);
    expect(await api(eu, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob })).toMatchObject({ status: 403, body: { reason: 'key-link-revoked' } });
    expect(await api(us, '/v1/unwrap', token, { ciphertextBlob: generated.body.ciphertextBlob })).toMatchObject({ status: 403, body: { reason: 'key-link-revoked' } });
    console.log(`[worker kafka] revocation published → both workers' acks received: ${ackMs} ms`);
  });

  it('fails closed: without heartbeats it denies within each tenant\'s maxStaleness + 100 ms, and recovers', async () => {
    await publisher.state(tenantView('fast', [keyLink('f1', l1)], { maxStalenessMs: 1000 }));
    await publisher.state(tenantView('default', [keyLink('d1', l1)], { maxStalenessMs: 2000 }));
    await publisher.startHeartbeats(100);
    const eu = worker(EU, 'eu-1');
    await eu.start();
    await heard(eu);
    const tokens = { fast: await issuer.token({ tenant: 'fast', system: 'sys-f1' }), default: await issuer.token({ tenant: 'default', system: 'sys-d1' }) };
    const plaintext = randomBytes(32).toString('base64');
    for (const token of Object.values(tokens)) expect((await api(eu, '/v1/wrap', token, { plaintext })).status).toBe(200);

    await publisher.stopHeartbeats(); // the bridge's heartbeat stops; nothing else changes
    const deniedAt: Record<string, number> = {};
    const bounds: Record<string, number> = { fast: 1000, default: 2000 };
    while (Object.keys(deniedAt).length < 2) {
      for (const name of ['fast', 'default'] as const) {
        if (deniedAt[name]) continue;
        const res = await api(eu, '/v1/wrap', tokens[name], { plaintext });
        const now = performance.now();
        if (res.status === 200) {
          expect(now - eu.heartbeat.lastHeartbeatAt).toBeLessThanOrEqual(bounds[name] + 50); // never allowed past the bound
        } else {
          expect(res.body.reason).toBe('stale-view');
          deniedAt[name] = now;
        }
      }
      await sleep(2);
    }
    const lastHeard = eu.heartbeat.lastHeartbeatAt;
    for (const name of ['fast', 'default']) {
      expect(deniedAt[name] - lastHeard).toBeGreaterThan(bounds[name]);
      expect(deniedAt[name] - lastHeard).toBeLessThanOrEqual(bounds[name] + 100);
    }
    const sinceLastPublished = deniedAt.fast - publisher.lastHeartbeatPublishedAt;

    const resumed = performance.now();
    await publisher.startHeartbeats(100);
    await eventually(async () => (await api(eu, '/v1/wrap', tokens.fast, { plaintext })).status === 200, 5_000, 5);
    const recoveredMs = performance.now() - resumed;
    console.log(
      `[worker kafka] fail closed: denied ${(deniedAt.fast - lastHeard).toFixed(0)} ms (bound 1000) and ${(deniedAt.default - lastHeard).toFixed(0)} ms (bound 2000) after the last heartbeat was handled (${sinceLastPublished.toFixed(0)} ms after it was published); recovered ${recoveredMs.toFixed(0)} ms after heartbeats resumed`,
    );
  });

  it('rebuilds from the compacted topic after a restart and serves the same decisions', async () => {
    const views = [
      tenantView('alpha', [keyLink('a1', l1), keyLink('a2', l1)]),
      tenantView('beta', [keyLink('b1', l1)], { allowedRegions: [US] }),
      tenantView('gamma', [keyLink('g1', l1)], { status: 'suspended' }),
    ];
    for (const view of views) await publisher.state(view);
    await publisher.startHeartbeats(100);
    const first = worker(EU, 'eu-1');
    await first.start();
    await heard(first);
    const alpha = await issuer.token({ tenant: 'alpha', system: 'sys-a1' });
    const blob = (await api(first, '/v1/data-keys', alpha, {})).body;
    // Revoke a2 as the bridge would: the revocation, then the state of the same event.
    const revoked = await publisher.revocation({ tenantId: 'alpha', keyLinkId: 'a2', cause: 'KeyLinkRevoked' });
    await publisher.state(tenantView('alpha', [keyLink('a1', l1), keyLink('a2', l1, 'revoked')]), { position: Number(revoked.position) });
    await eventually(() => decision(first, 'alpha', 'sys-a2') === 'key-link-revoked');

    const requests: [string, string][] = [['alpha', 'sys-a1'], ['alpha', 'sys-a2'], ['alpha', 'sys-x'], ['beta', 'sys-b1'], ['gamma', 'sys-g1'], ['nobody', 'sys-n']];
    const decisions = async (w: RegionalWorker) =>
      Promise.all(requests.map(async ([tenant, system]) => {
        const res = await api(w, '/v1/wrap', await issuer.token({ tenant, system }), { plaintext: 'AAAA' });
        return `${tenant}/${system}: ${res.status === 200 ? 'allowed' : res.body.reason}`;
      }));
    const before = await decisions(first);
    expect(before).toEqual(['alpha/sys-a1: allowed', 'alpha/sys-a2: key-link-revoked', 'alpha/sys-x: unknown-system', 'beta/sys-b1: region-not-allowed', 'gamma/sys-g1: tenant-suspended', 'nobody/sys-n: unknown-tenant']);
    await stopWorker(first);

    const second = worker(EU, 'eu-1');
    await second.start();
    await heard(second);
    expect(await decisions(second)).toEqual(before);
    expect((await api(second, '/v1/unwrap', alpha, { ciphertextBlob: blob.ciphertextBlob })).body.plaintext).toBe(blob.plaintext);
  });
});
