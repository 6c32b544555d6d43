import { ENFORCEMENT_CAUSES } from '@cmk/domain';
import { KafkaMesh } from '@cmk/mesh';
import { emptyWorld, foldEvent, TenantView, viewOf } from '@cmk/orbital';
import { testDatabaseUrl } from '@cmk/testing';
import { testKafkaBrokers } from '@cmk/testing/kafka';
import { servingRegions } from '../../apps/mesh-bridge/src/bridge-fold';
import { bridgeTopics, topicSpecs } from '../../apps/mesh-bridge/src/topics';
import { openTestStore, quietLogger, readGovernance, TestStore, TopicRecorder, uniquePrefix, waitFor } from './support/bridge-fixtures';
import { BridgeProcess, buildBridge } from './support/bridge-process';
import { Governance, prng, RandomWorkload } from './support/governance';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1', 'ap-south-1'];
const EVENTS = 1000;
const KILLS = 20;
const PARTITIONS = 3;
const SEED = Number(process.env.CMK_TEST_SEED ?? Date.now() % 1_000_000);

/**
 * The bridge's central promise, tested the hard way: the bridge runs as its own process (built like dist) and is
 * SIGKILLed at random points, 20 times, while 1,000 governance events are appended; after each kill a new one
 * starts. A consumer that applies the state and region topics with position dedupe (as a worker does) must end
 * with exactly the views a fresh fold of the whole event store gives: nothing lost, nothing wrong ever applied.
 */
describe('mesh bridge killed (SIGKILL) 20 times while governance events are appended', () => {
  let ts: TestStore;
  let build: Awaited<ReturnType<typeof buildBridge>>;
  let mesh: KafkaMesh;
  let recorder: TopicRecorder | undefined;
  let current: BridgeProcess | undefined;

  beforeAll(async () => {
    [ts, build] = await Promise.all([openTestStore(), buildBridge()]);
    mesh = new KafkaMesh({ brokers: testKafkaBrokers(), clientId: 'bridge-crash-test', logger: quietLogger });
  }, 60_000);

  afterAll(async () => {
    await current?.kill();
    await recorder?.stop().catch(() => undefined);
    await mesh?.close();
    await ts?.close();
    build?.remove();
  });

  it('ends with exactly the views of a fresh fold; every revocation published and recorded once', async () => {
    const prefix = uniquePrefix('crash');
    const topics = bridgeTopics(prefix, REGIONS);
    // The topics exist before the consumer reads them from the beginning (the bridge would create the same).
    await mesh.ensureTopics(topicSpecs(topics, PARTITIONS));
    recorder = await TopicRecorder.start(mesh, [topics.state, topics.revocations, topics.heartbeat, ...topics.regionDeltas.values()]);
    const env = {
      CMK_DATABASE_URL: testDatabaseUrl(),
      CMK_EVENT_STORE_SCHEMA: ts.schema,
      CMK_EVENT_STORE_APP_ROLE: '',
      CMK_MESH_BROKERS: testKafkaBrokers().join(','),
      CMK_MESH_TOPIC_PREFIX: prefix,
      CMK_MESH_PARTITIONS: String(PARTITIONS),
      CMK_REGIONS: REGIONS.join(','),
      // Small batches: more checkpoint moves, so the kills land between publish and checkpoint too.
      CMK_BRIDGE_BATCH_SIZE: '16',
      CMK_BRIDGE_HEARTBEAT_MS: '100',
      CMK_BRIDGE_PORT: '0',
      CMK_LOG_LEVEL: 'warn',
    };
    const random = prng(SEED);
    const workload = new RandomWorkload(new Governance(ts.store), SEED, 'c');

    let appended = 0;
    const writer = (async () => {
      for (; appended < EVENTS; appended++) {
        await workload.next();
        if (random() < 0.4) await new Promise((r) => setTimeout(r, random() * 90));
      }
    })();

    for (let kill = 0; kill < KILLS; kill++) {
      current = BridgeProcess.start(build.main, env);
      // Anywhere from mid-start-up to well into publishing.
      await new Promise((r) => setTimeout(r, 150 + random() * 1500));
      const exit = await current.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
    }
    await writer;
    expect(appended).toBe(EVENTS);

    // The last bridge claims a higher epoch than any killed one did; its heartbeats prove it is running.
    const epochBefore = Number((await ts.store.checkpoints.get('mesh-bridge.epoch')) ?? 0n);
    current = BridgeProcess.start(build.main, env);
    const governance = await readGovernance(ts.store);
    const head = governance[governance.length - 1].position;

    // The reference: a fresh fold of the whole log, remembering the view after every change (for checking every
    // message ever applied, not just the last one).
    const world = emptyWorld();
    const viewAt = new Map<string, string>();
    for (const event of governance) {
      for (const change of foldEvent(world, event)) viewAt.set(`${change.tenantId}@${change.position}`, JSON.stringify(change.after));
    }
    const expected = new Map<string, TenantView>([...world.tenants.keys()].map((t) => [t, viewOf(world, t)!]));

    const rec = recorder;
    const stateMatches = () => {
      const states = rec.states(topics.state);
      return states.size === expected.size && [...expected].every(([t, view]) => JSON.stringify(states.get(t)?.view) === JSON.stringify(view));
    };
    try {
      await waitFor('the state topic to hold the fresh fold', stateMatches, 60_000, 100);
    } catch (error) {
      throw new Error(`${(error as Error).message} (seed ${SEED})\n--- last bridge output:\n${current.tail()}`);
    }

    // Every region serves exactly the tenants whose final view routes there, with that view.
    for (const region of REGIONS) {
      const topic = topics.regionDeltas.get(region)!;
      const want = [...expected].filter(([, v]) => servingRegions(v, REGIONS).includes(region));
      await waitFor(`region ${region}`, () => rec.served(topic).size === want.length, 30_000, 100);
      expect(Object.fromEntries(rec.served(topic))).toEqual(Object.fromEntries(want));
    }
    for (const [tenantId, state] of rec.states(topics.state)) expect(state.removed).toBe(expected.get(tenantId)!.status === 'offboarded');

    // Nothing wrong was ever applied: every view received (re-sends included) is the fold's view at its position.
    const wrong = rec.seen
      .filter((s) => s.message.kind === 'tenant-state')
      .filter((s) => {
        const m = s.message as { tenantId: string; view: TenantView };
        return viewAt.get(`${m.tenantId}@${s.position}`) !== JSON.stringify(m.view);
      });
    expect(wrong.map((s) => `${s.topic} ${s.key}@${s.position}`)).toEqual([]);
    expect(rec.problems).toEqual([]);

    // Every revocation reached the lane, and was recorded as dispatched exactly once.
    const revocations = governance.filter((e) => (ENFORCEMENT_CAUSES as readonly string[]).includes(e.type)).map((e) => e.position.toString());
    expect(revocations.length).toBeGreaterThan(10);
    const onLane = new Set(rec.of(topics.revocations, 'revocation').map((s) => s.message.position));
    expect(revocations.filter((p) => !onLane.has(p))).toEqual([]);
    await waitFor('every dispatch recorded', async () => (await dispatches()).length >= revocations.length, 30_000, 100);
    const recorded = await dispatches();
    expect(recorded.map((e) => (e.data as { revocationPosition: string }).revocationPosition).sort()).toEqual([...revocations].sort());

    // Epochs only grow on the heartbeat topic (one partition: total order), and the last one covers the head.
    // (The views above may already have come from a killed bridge; wait for the last one's own heartbeat, so the
    // SIGTERM below stops a running bridge rather than a process still loading its modules.)
    await waitFor(
      'a heartbeat of the last bridge at the head',
      () => rec.of(topics.heartbeat, 'heartbeat').some((h) => BigInt(h.message.position) >= head && h.message.epoch > epochBefore),
      20_000,
      100,
    );
    const epochs = rec.of(topics.heartbeat, 'heartbeat').map((h) => h.message.epoch);
    expect(epochs).toEqual([...epochs].sort((a, b) => a - b));
    // Some of the killed ones died before claiming theirs; the last one claimed the highest.
    const lastEpoch = Number(await ts.store.checkpoints.get('mesh-bridge.epoch'));
    expect(lastEpoch).toBeGreaterThan(1);
    expect(Math.max(...epochs)).toBe(lastEpoch);

    // A clean stop at the end: SIGTERM, exit 0, checkpoint at the head of the governance log.
    const exit = await current.kill('SIGTERM');
    expect({ exit, output: exit.code === 0 ? '' : current.tail() }).toEqual({ exit: { code: 0, signal: null }, output: '' });
    expect(await ts.store.checkpoints.get('mesh-bridge')).toBe(head);
    process.stdout.write(
      `bridge crash test (seed ${SEED}): ${governance.length} governance events, ${revocations.length} revocations, ` +
        `${rec.seen.length} messages received, ${rec.duplicatesDropped} re-sends dropped by position\n`,
    );

    async function dispatches() {
      return ts.store.readAll({ filter: { categories: ['enforcement'], eventTypes: ['RevocationDispatched'] } });
    }
  }, 170_000);
});
