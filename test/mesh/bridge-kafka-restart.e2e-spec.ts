import { ENFORCEMENT_CAUSES } from '@cmk/domain';
import { KafkaMesh } from '@cmk/mesh';
import { type KafkaBroker, restartKafka, startKafka, stopKafka } from '@cmk/testing/kafka';
import { servingRegions } from '../../apps/mesh-bridge/src/bridge-fold';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { freshViews, openTestStore, quietLogger, readGovernance, TestStore, testLogger, TopicRecorder, uniquePrefix, waitFor } from './support/bridge-fixtures';
import { Governance, RandomWorkload } from './support/governance';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1'];

/**
 * The broker crashes (SIGKILL) and comes back in the middle of a stream of governance events. Commands keep
 * being accepted the whole time (the event store does not depend on the mesh), and once the broker is back the
 * bridge publishes everything it could not: the topics converge on the fresh fold of the event store. This suite
 * runs a broker of its own, since restarting the shared one would disturb the suites running beside it.
 */
describe('mesh bridge across a Kafka broker crash and restart', () => {
  let broker: KafkaBroker;
  let ts: TestStore;
  let bridgeMesh: KafkaMesh;
  let consumerMesh: KafkaMesh;
  let bridge: MeshBridge | undefined;
  let recorder: TopicRecorder | undefined;

  beforeAll(async () => {
    [broker, ts] = await Promise.all([startKafka(), openTestStore()]);
  }, 180_000);

  afterAll(async () => {
    await bridge?.stop();
    await recorder?.stop().catch(() => undefined);
    await bridgeMesh?.close();
    await consumerMesh?.close();
    await ts?.close();
    if (broker) await stopKafka(broker);
  });

  it('accepts every command during the outage and converges once the broker is back', async () => {
    // A short publish timeout so the outage shows in health; the bridge itself retries without end.
    bridgeMesh = new KafkaMesh({ brokers: [broker.brokers], clientId: 'bridge-restart', publishTimeoutMs: 2_000, logger: quietLogger });
    consumerMesh = new KafkaMesh({ brokers: [broker.brokers], clientId: 'bridge-restart-consumer', logger: quietLogger });
    bridge = new MeshBridge({ store: ts.store, mesh: bridgeMesh, logger: testLogger }, { regions: REGIONS, topicPrefix: uniquePrefix('restart'), partitions: 3, heartbeatMs: 100 });
    await bridge.start();
    const t = bridge.topics;
    recorder = await TopicRecorder.start(consumerMesh, [t.state, t.revocations, ...t.regionDeltas.values()]);
    const workload = new RandomWorkload(new Governance(ts.store), 4242, 'r');

    for (let i = 0; i < 150; i++) await workload.next();
    await waitFor('ready before the crash', () => bridge!.health().ready, 20_000);

    let restarted = false;
    let sawNotReady = false;
    let slowestAppendMs = 0;
    let during = 0;
    const restart = restartKafka(broker, { hard: true }).finally(() => (restarted = true));
    while (!restarted) {
      const started = Date.now();
      await workload.next();
      slowestAppendMs = Math.max(slowestAppendMs, Date.now() - started);
      during++;
      if (!bridge.health().ready) sawNotReady = true;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await restart).brokers).toBe(broker.brokers);
    for (let i = 0; i < 150; i++) await workload.next();

    // Commands were never held up by the mesh: appends went on at database speed all through the outage.
    expect(during).toBeGreaterThan(20);
    expect(slowestAppendMs).toBeLessThan(2_000);
    expect(sawNotReady).toBe(true);

    const expected = await freshViews(ts.store);
    const rec = recorder;
    await waitFor(
      'the state topic to converge on the fresh fold',
      () => [...expected].every(([tenant, view]) => JSON.stringify(rec.states(t.state).get(tenant)?.view) === JSON.stringify(view)),
      120_000,
      200,
    );
    for (const region of REGIONS) {
      const want = new Map([...expected].filter(([, v]) => servingRegions(v, REGIONS).includes(region)));
      const served = () => rec.served(t.regionDeltas.get(region)!);
      await waitFor(`region ${region}`, () => served().size === want.size && [...want].every(([id, v]) => JSON.stringify(served().get(id)) === JSON.stringify(v)), 30_000, 200).catch(
        () => undefined,
      );
      expect(Object.fromEntries(served())).toEqual(Object.fromEntries(want));
    }
    const revocations = (await readGovernance(ts.store)).filter((e) => (ENFORCEMENT_CAUSES as readonly string[]).includes(e.type));
    const onLane = new Set(rec.of(t.revocations, 'revocation').map((s) => s.message.position));
    expect(revocations.filter((e) => !onLane.has(e.position.toString()))).toEqual([]);
    await waitFor('ready again', () => bridge!.health().ready, 30_000);
    expect(rec.problems).toEqual([]);
    expect(await bridge.metricsText()).toMatch(/cmk_bridge_publish_failures_total [1-9]/);
  }, 240_000);
});
