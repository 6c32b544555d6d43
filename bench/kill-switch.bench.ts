/**
 * The kill switch on real Kafka: from the revoke API call's response to the moment every regional worker denies,
 * over CMK_BENCH_REVOCATIONS (default 200) revocations, with 12 workers (one per region) following a mesh bridge
 * and CMK_BENCH_TENANTS (default 10,000) tenants loaded. In the same run: raw kafkajs produce-to-consume latency
 * (the floor), and a fresh worker's bootstrap from the compacted state topic. Run by `npm run bench -- kill-switch`
 * (PostgreSQL and Kafka started by bench/run.sh).
 *
 * Everything but the broker and the database runs in this one Node process (control plane, bridge, 12 workers),
 * so the figures include their contention for 2 cores; each worker has its own Kafka clients, as separate
 * processes would. "Denies" is measured where it happens: the instant a worker's view applies the revocation
 * (hooked on its view store), after which every decision for that link is a denial (checked at the end).
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { DevIssuer, JwtVerifier } from '@cmk/auth';
import { KafkaMesh } from '@cmk/mesh';
import type { RevocationMessage } from '@cmk/orbital';
import { startTestControlPlane } from '../test/support/control-plane';
import { openRawKafkaProbe } from '../test/support/raw-kafka-probe';
import { MeshBridge } from '../apps/mesh-bridge/src/mesh-bridge';
import { kafkaEndOffsets, RegionalWorker } from '../apps/regional-worker/src';
import { benchDatabaseUrl, fmt, percentile, report } from './bench-util';

const TENANTS = Number(process.env.CMK_BENCH_TENANTS ?? 10_000);
const REVOCATIONS = Number(process.env.CMK_BENCH_REVOCATIONS ?? 200);
const REGIONS = [
  'eu-central-1', 'eu-west-1', 'eu-north-1', 'us-east-1', 'us-east-2', 'us-west-2',
  'ca-central-1', 'sa-east-1', 'ap-southeast-1', 'ap-northeast-1', 'ap-south-1', 'af-south-1',
];
const PREFIX = `bench${Date.now() % 100000}.`;
const quiet = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rawKafkaLatency(brokers: string[], samples: number): Promise<number[]> {
  const probe = await openRawKafkaProbe(brokers, `${PREFIX}raw-latency`, 'bench-raw');
  const latencies: number[] = [];
  for (let i = 0; i < samples + 20; i++) {
    await sleep(10);
    const t0 = performance.now();
    await probe.roundTrip(i);
    if (i >= 20) latencies.push(performance.now() - t0);
  }
  await probe.close();
  return latencies.sort((a, b) => a - b);
}

async function seed(store: import('@cmk/event-store').EventStore, count: number): Promise<{ tenantId: string; keyLinkId: string; systemId: string }[]> {
  const tenants = Array.from({ length: count }, () => ({ tenantId: randomUUID(), keyLinkId: randomUUID(), systemId: randomUUID() }));
  const metadata = { actor: { subject: 'bench-seed', roles: ['platform-operator'] }, schemaVersion: 1 };
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < tenants.length) {
        const { tenantId, keyLinkId, systemId } = tenants[next++];
        await store.append(`tenant-${tenantId}`, [{ type: 'TenantOnboarded', data: { tenantId, displayName: `Bench ${tenantId.slice(0, 8)}`, jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] }, metadata }], { expectedRevision: 'no_stream' });
        await store.append(
          `keylink-${keyLinkId}`,
          [
            { type: 'KeyLinked', data: { keyLinkId, tenantId, providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=bench;object=${keyLinkId}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' }, metadata },
            { type: 'KeyLinkActivated', data: { keyLinkId, tenantId }, metadata },
          ],
          { expectedRevision: 'no_stream' },
        );
        await store.append(`system-${systemId}`, [{ type: 'SystemRegistered', data: { systemId, tenantId, name: 'bench', region: 'eu-central-1', keyLinkId }, metadata }], { expectedRevision: 'no_stream' });
      }
    }),
  );
  return tenants;
}

async function main(): Promise<void> {
  process.env.CMK_TEST_DATABASE_URL = benchDatabaseUrl();
  const brokers = [process.env.CMK_BENCH_KAFKA_BROKERS ?? ''];
  if (!brokers[0]) throw new Error('CMK_BENCH_KAFKA_BROKERS is not set: run it through bench/run.sh');
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const raw = await rawKafkaLatency(brokers, REVOCATIONS);

    const cp = await startTestControlPlane();
    closers.push(() => cp.close());
    const store = cp.running.infra.store;
    const token = await cp.token(['key-admin', 'platform-operator']);
    let started = performance.now();
    const tenants = await seed(store, TENANTS);
    const seedMs = performance.now() - started;

    const bridgeMesh = new KafkaMesh({ brokers, clientId: 'bench-bridge', logger: quiet });
    // Where the time goes: when the bridge's publish of each tenant's revocation was acknowledged by Kafka.
    const publishedAt = new Map<string, number>();
    const publish = bridgeMesh.publish.bind(bridgeMesh);
    bridgeMesh.publish = async (topic, messages) => {
      await publish(topic, messages);
      if (topic.endsWith('cmk.revocations')) for (const m of messages) if (!publishedAt.has(m.key)) publishedAt.set(m.key, performance.now());
    };
    const laneMesh = new KafkaMesh({ brokers, clientId: 'bench-bridge-revocations', logger: quiet });
    laneMesh.publish = (() => {
      const inner = laneMesh.publish.bind(laneMesh);
      return async (topic: string, messages: readonly import('@cmk/mesh').MeshMessage[]) => {
        await inner(topic, messages);
        for (const m of messages) if (!publishedAt.has(m.key)) publishedAt.set(m.key, performance.now());
      };
    })();
    const bridge = new MeshBridge({ store, mesh: bridgeMesh, revocationMesh: laneMesh }, { regions: REGIONS, topicPrefix: PREFIX, partitions: 6, consumerName: `${PREFIX}bridge` });
    closers.push(async () => {
      await bridge.stop();
      await bridgeMesh.close();
      await laneMesh.close();
    });
    started = performance.now();
    await bridge.start();
    while (bridge.health().published !== String(await store.headPosition())) await sleep(100);
    const publishMs = performance.now() - started;

    const issuer = await DevIssuer.open({ issuer: 'urn:cmk:bench', audience: 'cmk-worker' });
    const verifier = new JwtVerifier({ issuer: 'urn:cmk:bench', audience: 'cmk-worker', jwks: issuer.jwks, rolesClaim: 'roles', tenantClaim: 'cmk_tenant', clockToleranceSeconds: 30 });
    const enforcedAt = new Map<string, Map<string, number>>(); // keyLinkId -> region -> ms
    const waiters = new Map<string, () => void>();
    const startWorker = async (region: string, id: string): Promise<RegionalWorker> => {
      const mesh = new KafkaMesh({ brokers, clientId: id, logger: quiet });
      const endOffsets = kafkaEndOffsets(brokers, `${id}-offsets`);
      const worker = new RegionalWorker({ workerId: id, region, mesh, endOffsets, topicPrefix: PREFIX, providers: [], verifier, logger: quiet, port: 0 });
      const apply = worker.store.applyRevocation.bind(worker.store);
      worker.store.applyRevocation = (message: RevocationMessage) => {
        const outcome = apply(message);
        if (message.keyLinkId) {
          const regions = enforcedAt.get(message.keyLinkId) ?? new Map<string, number>();
          if (!regions.has(region)) regions.set(region, performance.now());
          enforcedAt.set(message.keyLinkId, regions);
          if (regions.size === REGIONS.length) waiters.get(message.keyLinkId)?.();
        }
        return outcome;
      };
      closers.push(async () => {
        await worker.stop();
        await endOffsets.close();
        await mesh.close();
      });
      await worker.start();
      return worker;
    };
    started = performance.now();
    const workers = await Promise.all(REGIONS.map((region) => startWorker(region, `bench-worker-${region}`)));
    while (!workers.every((w) => w.ready)) await sleep(20);
    const allReadyMs = performance.now() - started;

    // A fresh worker alone: bootstrap from the compacted state topic to ready.
    started = performance.now();
    const fresh = await startWorker('eu-central-1', 'bench-worker-fresh');
    while (!fresh.ready) await sleep(5);
    const bootstrapMs = performance.now() - started;
    await fresh.stop();

    const fromResponse: number[] = [];
    const fromRequest: number[] = [];
    const toBridgeAck: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      const { keyLinkId } = tenants[i];
      const everywhere = new Promise<void>((resolve) => waiters.set(keyLinkId, resolve));
      const t0 = performance.now();
      const res = await fetch(`${cp.url}/v1/key-links/${keyLinkId}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'bench' }),
      });
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}: ${await res.text()}`);
      await res.text();
      await Promise.race([everywhere, sleep(10_000).then(() => Promise.reject(new Error(`revocation ${i} not enforced everywhere in 10 s`)))]);
      const last = Math.max(...enforcedAt.get(keyLinkId)!.values());
      fromResponse.push(last - t1);
      fromRequest.push(last - t0);
      toBridgeAck.push((publishedAt.get(tenants[i].tenantId) ?? NaN) - t1);
      await sleep(20);
    }
    // What-if over every tenant: a draft that every seeded (AES-256) link violates, the worst case.
    const simStarted = performance.now();
    const sim = await fetch(`${cp.url}/v1/policies/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await cp.token(['security-officer'])}`, 'content-type': 'application/json' },
      body: JSON.stringify({ document: { keyStrength: { minimumBits: { AES: 512 } } } }),
    });
    const simBody = (await sim.json()) as { evaluated: number; keyLinks: number };
    const simulateMs = performance.now() - simStarted;
    if (sim.status !== 200) throw new Error(`simulate answered ${sim.status}`);
    // Every worker denies every revoked link.
    for (const w of workers) {
      for (let i = 0; i < REVOCATIONS; i++) {
        const decision = w.decide({ tenantId: tenants[i].tenantId, systemId: tenants[i].systemId, keyLinkId: tenants[i].keyLinkId, operation: 'unwrap' });
        if (decision.allowed || decision.reason !== 'key-link-revoked') throw new Error(`worker ${w.workerId}: revoked link ${tenants[i].keyLinkId} gives ${JSON.stringify(decision)}`);
      }
    }
    // A global policy change reaching every region: a policy in force for every tenant, then its revision. Appended
    // directly (the four-eyes approval in front of it is not what is measured): from the append of version 2 until
    // every worker's view of every tenant it serves names version 2, and until GET /v1/compliance shows every worker
    // reporting it (status report, bridge record, projection).
    const policyId = randomUUID();
    const policyMeta = { actor: { subject: 'bench-policy', roles: ['security-officer'] }, schemaVersion: 1 };
    await store.append(`policy-${policyId}`, [{ type: 'PolicyDefined', data: { policyId, name: 'bench-rotation', version: 1, document: { rotation: { maxAgeDays: 3650 } } }, metadata: policyMeta }], { expectedRevision: 'no_stream' });
    await store.append('policyscope-global', [{ type: 'PolicyAssigned', data: { scope: 'global', policyId, version: 'latest' }, metadata: policyMeta }], { expectedRevision: 'any' });
    const enforcing = (version: number) => workers.every((w) => {
      const held = w.store.enforcedPolicies().filter((p) => p.policyId === policyId);
      return held.length === 1 && held[0].version === version && held[0].tenants === w.store.servedTenants;
    });
    const waitFor = async (what: string, check: () => boolean | Promise<boolean>, pauseMs: number) => {
      const deadline = performance.now() + 120_000;
      let nextNote = performance.now() + 10_000;
      while (!(await check())) {
        if (performance.now() > deadline) throw new Error(`policy propagation: ${what} not reached in 120 s`);
        if (performance.now() > nextNote) {
          nextNote += 10_000;
          const w = workers[0];
          console.error(`still waiting for ${what}: ${w.workerId} serves ${w.store.servedTenants}, enforces ${JSON.stringify(w.store.enforcedPolicies())}; bridge ${JSON.stringify(bridge.health())}`);
        }
        await sleep(pauseMs);
      }
    };
    await waitFor('every worker enforcing v1', () => enforcing(1), 20);
    const officer = await cp.token(['security-officer']);
    const driftInSync = async () => {
      const body = (await (await fetch(`${cp.url}/v1/compliance`, { headers: { authorization: `Bearer ${officer}` } })).json()) as { workerDrift: { inSync: number; workers: number } };
      return body.workerDrift.inSync === REGIONS.length && body.workerDrift.workers === REGIONS.length;
    };
    await waitFor('compliance in sync at v1', driftInSync, 100);
    const revisedAt = performance.now();
    await store.append(`policy-${policyId}`, [{ type: 'PolicyRevised', data: { policyId, version: 2, document: { rotation: { maxAgeDays: 3000 } } }, metadata: policyMeta }], { expectedRevision: 0 });
    await waitFor('every worker enforcing v2', () => enforcing(2), 5);
    const policyViewsMs = performance.now() - revisedAt;
    const complianceStarted = performance.now();
    await driftInSync();
    const complianceCallMs = performance.now() - complianceStarted;
    await waitFor('compliance in sync at v2', driftInSync, 20);
    const policyReportedMs = performance.now() - revisedAt;

    fromResponse.sort((a, b) => a - b);
    fromRequest.sort((a, b) => a - b);
    toBridgeAck.sort((a, b) => a - b);
    const p = (xs: number[], q: number) => fmt(percentile(xs, q), 1);
    report(`kill switch: revoke API response -> all ${REGIONS.length} workers deny (${TENANTS.toLocaleString('en-US')} tenants, ${REVOCATIONS} revocations, real Kafka)`, [
      ['raw kafkajs produce->consume p50 / p99 (ms), same broker, 10 ms spacing', `${p(raw, 50)} / ${p(raw, 99)}`],
      ['kill switch from the API response p50 / p99 (ms)', `${p(fromResponse, 50)} / ${p(fromResponse, 99)}`],
      ['kill switch from the API request p50 / p99 (ms)', `${p(fromRequest, 50)} / ${p(fromRequest, 99)}`],
      ['  of which: API response -> bridge publish acknowledged by Kafka p50 / p99 (ms)', `${p(toBridgeAck, 50)} / ${p(toBridgeAck, 99)}`],
      ['ratio p99 (from response) / raw p99 (target <= 3)', fmt(percentile(fromResponse, 99) / percentile(raw, 99), 2)],
      ['target p99 <= 50 ms', percentile(fromResponse, 99) <= 50 ? 'met' : 'NOT met'],
      ['seed (events appended)', `${fmt(TENANTS * 4)} events in ${fmt(seedMs)} ms`],
      ['bridge start to all published', `${fmt(publishMs)} ms`],
      [`${REGIONS.length} workers started together to all ready`, `${fmt(allReadyMs)} ms`],
      [`one fresh worker, bootstrap from the state topic to ready (target <= 3,000 ms)`, `${fmt(bootstrapMs)} ms`],
      [`policy what-if over all tenants (POST /v1/policies/simulate, ${fmt(simBody.evaluated)} links evaluated, ${fmt(simBody.keyLinks)} flagged; target < 2,000 ms)`, `${fmt(simulateMs)} ms`],
      [`global policy revision appended -> every tenant view in all ${REGIONS.length} workers names v2 (${fmt(TENANTS)} tenants)`, `${fmt(policyViewsMs)} ms`],
      [`  ... -> GET /v1/compliance shows all ${REGIONS.length} workers in sync (reports recorded and projected)`, `${fmt(policyReportedMs)} ms (one compliance call: ${fmt(complianceCallMs)} ms)`],
    ]);
  } finally {
    for (const close of closers.reverse()) await close().catch((e) => console.error('close failed', e));
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
