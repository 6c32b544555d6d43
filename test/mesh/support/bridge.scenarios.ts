import { enforcementStream, usageStream } from '@cmk/domain';
import type { Mesh } from '@cmk/mesh';
import { AckMessage, encodeMessage, UsageMessage } from '@cmk/orbital';
import { MeshBridge, MeshBridgeOptions } from '../../../apps/mesh-bridge/src/mesh-bridge';
import { freshViews, openTestStore, TestStore, testLogger, TopicRecorder, uniquePrefix, waitFor } from './bridge-fixtures';
import { Governance } from './governance';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1'];
const EU_ONLY = { geofence: { unwrapRegions: { EU: ['eu-central-1', 'eu-west-1'] } } };

/**
 * What the bridge promises, as one suite run against each mesh adapter (in process and Kafka), on the real
 * PostgreSQL event store. Every test gets its own schema and its own topic prefix.
 */
export function describeBridgeScenarios(name: string, makeMesh: () => Mesh, options: { timeoutMs: number }): void {
  const { timeoutMs } = options;

  describe(`MeshBridge on ${name}`, () => {
    let ts: TestStore;
    let mesh: Mesh;
    let gov: Governance;
    let prefix: string;
    let bridges: MeshBridge[];
    let recorder: TopicRecorder | undefined;

    beforeEach(async () => {
      ts = await openTestStore();
      mesh = makeMesh();
      gov = new Governance(ts.store);
      prefix = uniquePrefix(name.replace(/[^a-z]/gi, '').slice(0, 8));
      bridges = [];
      recorder = undefined;
    });

    afterEach(async () => {
      await Promise.allSettled(bridges.map((b) => b.stop()));
      await recorder?.stop().catch(() => undefined);
      await mesh.close();
      await ts.close();
    });

    const startBridge = async (extra: Partial<MeshBridgeOptions> & { onFatal?: (e: Error) => void } = {}): Promise<MeshBridge> => {
      const { onFatal, ...rest } = extra;
      const bridge = new MeshBridge(
        { store: ts.reopen(), mesh, logger: testLogger, onFatal },
        { regions: REGIONS, topicPrefix: prefix, partitions: 3, heartbeatMs: 50, ...rest },
      );
      bridges.push(bridge);
      await bridge.start();
      return bridge;
    };
    /** Starts a bridge and a recorder reading every topic it publishes to. */
    const start = async (extra: Partial<MeshBridgeOptions> = {}) => {
      const bridge = await startBridge(extra);
      const t = bridge.topics;
      recorder ??= await TopicRecorder.start(mesh, [t.state, t.revocations, t.heartbeat, ...t.regionDeltas.values()]);
      return { bridge, t, rec: recorder };
    };
    const until = (what: string, condition: () => boolean | Promise<boolean>) => waitFor(what, condition, timeoutMs);
    const streamOf = (stream: string) => ts.store.readStream(stream);

    it('publishes each changed view to the compacted state topic, with the position of the event that changed it', async () => {
      const { t, rec } = await start();
      const onboarded = await gov.onboard('t1', 'US', 'us-east-1');
      // One view per tenant per batch: let the onboarding go out on its own before the next change.
      await until('the onboarded view', () => rec.states(t.state).has('t1'));
      const linked = await gov.link('t1', 'k1');
      await until('the view with the link', () => rec.states(t.state).get('t1')?.position === linked.position.toString());
      const states = rec.of(t.state, 'tenant-state').filter((s) => s.key === 't1');
      expect(states.map((s) => s.position)).toEqual([onboarded.position, linked.position]);
      expect(states.every((s) => s.message.removed === false)).toBe(true);
      expect(rec.states(t.state).get('t1')!.view).toEqual((await freshViews(ts.store)).get('t1'));
      expect(rec.problems).toEqual([]);
    });

    it('publishes events recorded before it started (catch-up), then reports ready and sends heartbeats', async () => {
      for (let i = 0; i < 30; i++) await gov.onboard(`t${i}`, 'CH');
      const { bridge, t, rec } = await start({ batchSize: 7 });
      await until('30 tenants on the state topic', () => rec.states(t.state).size === 30);
      await until('ready', () => bridge.health().ready);
      await until('a heartbeat at the head', () => rec.of(t.heartbeat, 'heartbeat').some((h) => h.message.position === '30'));
      const heartbeat = rec.of(t.heartbeat, 'heartbeat').at(-1)!.message;
      expect(heartbeat.epoch).toBe(bridge.health().epoch);
      expect(bridge.health()).toMatchObject({ live: true, ready: true, caughtUp: true, checkpoint: '30', published: '30' });
    });

    it('routes by geofence: an EU tenant only to the EU region topics, an unrestricted tenant everywhere', async () => {
      const { t, rec } = await start();
      await gov.define('eu-only', EU_ONLY);
      await gov.assign('global', 'eu-only');
      await gov.onboard('eu', 'EU');
      await gov.onboard('us', 'US', 'us-east-1');
      const last = await gov.link('eu', 'k-eu');
      const region = (r: string) => t.regionDeltas.get(r)!;
      await until('both EU regions to have the link', () =>
        ['eu-central-1', 'eu-west-1'].every((r) => rec.states(region(r)).get('eu')?.position === last.position.toString()),
      );
      await until('us-east-1 to serve the US tenant', () => rec.served(region('us-east-1')).has('us'));
      expect([...rec.served(region('eu-central-1')).keys()].sort()).toEqual(['eu', 'us']);
      expect(rec.seen.filter((s) => s.topic === region('us-east-1') && s.key === 'eu')).toEqual([]);
      expect(rec.served(region('eu-west-1')).get('eu')!.allowedRegions).toEqual(['eu-central-1', 'eu-west-1']);
    });

    it('sends a removed view to a region the tenant leaves, and removes an offboarded tenant everywhere', async () => {
      const { t, rec } = await start();
      const region = (r: string) => t.regionDeltas.get(r)!;
      await gov.define('eu-only', EU_ONLY);
      await gov.assign('global', 'eu-only');
      await gov.onboard('eu', 'EU');
      await gov.onboard('us', 'US', 'us-east-1');
      // Served there first: a tenant that joins and leaves a region within one batch never reaches it at all.
      await until('eu-central-1 to serve the EU tenant', () => rec.served(region('eu-central-1')).has('eu'));
      const narrowed = await gov.revise('eu-only', 2, { geofence: { unwrapRegions: { EU: ['eu-west-1'] } } });
      await until('eu-central-1 to drop the EU tenant', () => rec.states(region('eu-central-1')).get('eu')?.removed === true);
      const removal = rec.states(region('eu-central-1')).get('eu')!;
      expect(removal.position).toBe(narrowed.position.toString());
      expect(rec.served(region('eu-west-1')).get('eu')?.allowedRegions).toEqual(['eu-west-1']);
      // A revision about the EU leaves the US tenant's geofence alone, but its view names the version now in force.
      await until('the US tenant to hear of version 2', () => rec.of(t.state, 'tenant-state').filter((s) => s.key === 'us').length === 2);
      expect(rec.of(t.state, 'tenant-state').filter((s) => s.key === 'us').map((s) => [s.message.view.allowedRegions, s.message.view.policies])).toEqual([
        [null, [{ policyId: 'eu-only', version: 1 }]],
        [null, [{ policyId: 'eu-only', version: 2 }]],
      ]);

      const offboarded = await gov.offboard('eu');
      await until('eu-west-1 to drop the offboarded tenant', () => rec.states(region('eu-west-1')).get('eu')?.removed === true);
      await until('the state topic to mark it removed', () => rec.states(t.state).get('eu')?.removed === true);
      expect(rec.states(t.state).get('eu')).toMatchObject({ position: offboarded.position.toString(), view: { status: 'offboarded' } });
      // eu-central-1 had already let it go; us-east-1 never served it.
      expect(rec.of(region('eu-central-1'), 'tenant-state').filter((s) => s.key === 'eu').map((s) => s.message.removed)).toEqual([false, true]);
      expect(rec.of(region('us-east-1'), 'tenant-state').filter((s) => s.key === 'eu')).toEqual([]);
    });

    it('publishes every tenant a global policy revision changes', async () => {
      const { t, rec } = await start();
      await gov.define('p', { rotation: { maxAgeDays: 90 } });
      await gov.assign('global', 'p');
      for (const [id, j] of [['a', 'EU'], ['b', 'US'], ['c', 'EU'], ['d', 'CH']]) await gov.onboard(id, j);
      const revised = await gov.revise('p', 2, { geofence: { unwrapRegions: { EU: ['eu-west-1'], CH: ['eu-central-1'] } } });
      const changed = () => [...rec.states(t.state)].filter(([, s]) => s.position === revised.position.toString()).map(([id]) => id).sort();
      // Every governed tenant gets the version (a, c and d a new geofence too; b, US, only the version).
      await until('every tenant at the revision', () => changed().length === 4);
      expect(changed()).toEqual(['a', 'b', 'c', 'd']);
      expect(rec.states(t.state).get('b')!.view).toMatchObject({ allowedRegions: null, policies: [{ policyId: 'p', version: 2 }] });
      expect(rec.states(t.state).get('d')!.view).toMatchObject({ allowedRegions: ['eu-central-1'], policies: [{ policyId: 'p', version: 2 }] });
    });

    it('puts revocations on the lane and records RevocationDispatched once per revocation, with the regions that served the tenant', async () => {
      const { t, rec } = await start();
      await gov.define('eu-only', EU_ONLY);
      await gov.assign('global', 'eu-only');
      await gov.onboard('eu', 'EU');
      await gov.link('eu', 'k1');
      await gov.activate('eu', 'k1');
      const revoked = await gov.revoke('eu', 'k1');
      const suspended = await gov.suspend('eu');
      await until('two revocations', () => rec.of(t.revocations, 'revocation').length >= 2);
      const lane = rec.of(t.revocations, 'revocation').map((s) => s.message);
      expect(lane).toEqual([
        { kind: 'revocation', position: revoked.position.toString(), cause: 'KeyLinkRevoked', tenantId: 'eu', keyLinkId: 'k1', recordedAt: revoked.recordedAt.toISOString() },
        { kind: 'revocation', position: suspended.position.toString(), cause: 'TenantSuspended', tenantId: 'eu', recordedAt: suspended.recordedAt.toISOString() },
      ]);
      expect(rec.of(t.revocations, 'revocation').map((s) => s.key)).toEqual(['eu', 'eu']);
      await until('both dispatches recorded', async () => (await streamOf(enforcementStream('eu'))).length === 2);
      const dispatched = await streamOf(enforcementStream('eu'));
      expect(dispatched.map((e) => [e.type, e.data])).toEqual([
        ['RevocationDispatched', { tenantId: 'eu', keyLinkId: 'k1', cause: 'KeyLinkRevoked', revocationPosition: revoked.position.toString(), regions: ['eu-central-1', 'eu-west-1'] }],
        ['RevocationDispatched', { tenantId: 'eu', cause: 'TenantSuspended', revocationPosition: suspended.position.toString(), regions: ['eu-central-1', 'eu-west-1'] }],
      ]);
      expect(dispatched[0].metadata).toMatchObject({ commandId: `dispatch:${revoked.position}`, actor: { subject: 'mesh-bridge' } });
      // The checkpoint covers them only once they are recorded.
      await until('the checkpoint at the suspension', () => bridges[0].health().checkpoint === suspended.position.toString());
    });

    it('records acks and usage reports exactly once, however often they arrive, and drops malformed ones', async () => {
      const { bridge } = await start();
      const ack = (workerId: string, region: string): AckMessage => ({
        kind: 'revocation-enforced',
        workerId,
        region,
        tenantId: 'tx',
        keyLinkId: 'k1',
        cause: 'KeyLinkRevoked',
        revocationPosition: '42',
        enforcedAt: '2030-01-01T00:00:00.000Z',
      });
      const usage: UsageMessage = {
        kind: 'usage',
        workerId: 'w1',
        region: 'eu-central-1',
        reportId: 'w1-0001',
        windowStart: '2030-01-01T00:00:00.000Z',
        windowEnd: '2030-01-01T00:01:00.000Z',
        counts: [{ tenantId: 'tx', systemId: 's1', operation: 'unwrap', outcome: 'allowed', count: 12 }],
      };
      const t = bridge.topics;
      const send = (topic: string, key: string, value: Buffer | string) => mesh.publish(topic, [{ key, value }]);
      await send(t.acks, 'w1', 'not json');
      await send(t.acks, 'w1', encodeMessage({ ...ack('w1', 'eu-central-1'), revocationPosition: 'x' }));
      for (let i = 0; i < 3; i++) await send(t.acks, 'w1', encodeMessage(ack('w1', 'eu-central-1')));
      await send(t.acks, 'w2', encodeMessage(ack('w2', 'eu-west-1')));
      await send(t.acks, 'w2', encodeMessage(ack('w2', 'eu-west-1')));
      await send(t.usage, 'w1', encodeMessage(usage));
      await send(t.usage, 'w1', encodeMessage(usage));
      await send(t.usage, 'w1', encodeMessage({ ...usage, counts: [{ ...usage.counts[0], count: -1 }] }));

      await until('two acks recorded', async () => (await streamOf(enforcementStream('tx'))).length === 2);
      await until('one usage report recorded', async () => (await streamOf(usageStream('w1'))).length === 1);
      await until('every message handled', async () => (await bridge.metricsText()).includes('cmk_bridge_feedback_messages_total{kind="usage",outcome="invalid"} 1'));
      await until('the duplicates counted', async () => (await bridge.metricsText()).includes('cmk_bridge_feedback_messages_total{kind="ack",outcome="duplicate"} 3'));
      const enforced = await streamOf(enforcementStream('tx'));
      expect(enforced.map((e) => e.type)).toEqual(['RevocationEnforced', 'RevocationEnforced']);
      expect(enforced.map((e) => e.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        { tenantId: 'tx', keyLinkId: 'k1', cause: 'KeyLinkRevoked', revocationPosition: '42', workerId: 'w1', region: 'eu-central-1', enforcedAt: '2030-01-01T00:00:00.000Z' },
        { tenantId: 'tx', keyLinkId: 'k1', cause: 'KeyLinkRevoked', revocationPosition: '42', workerId: 'w2', region: 'eu-west-1', enforcedAt: '2030-01-01T00:00:00.000Z' },
      ]);
      expect(enforced.map((e) => e.metadata.commandId).sort()).toEqual(['ack:w1:42', 'ack:w2:42']);
      const [report] = await streamOf(usageStream('w1'));
      expect(report).toMatchObject({ type: 'UsageReported', data: { workerId: 'w1', reportId: 'w1-0001', counts: usage.counts }, metadata: { commandId: 'usage:w1:w1-0001' } });
      const metrics = await bridge.metricsText();
      expect(metrics).toContain('cmk_bridge_feedback_messages_total{kind="ack",outcome="invalid"} 2');
      expect(metrics).toContain('cmk_bridge_feedback_messages_total{kind="ack",outcome="appended"} 2');
      expect(metrics).toContain('cmk_bridge_feedback_messages_total{kind="usage",outcome="duplicate"} 1');
    });

    it('resumes after its checkpoint on restart, with a higher epoch, publishing nothing twice after a clean stop', async () => {
      const first = await start();
      await gov.onboard('a', 'EU');
      const beforeStop = await gov.link('a', 'k1');
      await until('the link published', () => first.rec.states(first.t.state).get('a')?.position === beforeStop.position.toString());
      await until('the checkpoint', () => first.bridge.health().checkpoint === beforeStop.position.toString());
      const firstEpoch = first.bridge.health().epoch;
      await first.bridge.stop();
      expect(first.bridge.health()).toMatchObject({ state: 'stopped', ready: false, live: true });

      const whileDown = await gov.activate('a', 'k1');
      const second = await start();
      expect(second.bridge.health().epoch).toBe(firstEpoch + 1);
      await until('the backlog published', () => first.rec.states(second.t.state).get('a')?.position === whileDown.position.toString());
      const after = await gov.register('a', 's1', 'k1');
      await until('the restart to publish the rest', () => first.rec.states(second.t.state).get('a')?.position === after.position.toString());
      // Onboarding and linking may have shared a batch (one view for both); each view went out once.
      const positions = first.rec.of(second.t.state, 'tenant-state').map((s) => s.position);
      expect(positions.slice(-3)).toEqual([beforeStop.position, whileDown.position, after.position]);
      expect(new Set(positions).size).toBe(positions.length);
      await until('a heartbeat of the new epoch', () => first.rec.of(second.t.heartbeat, 'heartbeat').some((h) => h.message.epoch === firstEpoch + 1));
      expect(first.rec.states(second.t.state).get('a')!.view).toEqual((await freshViews(ts.store)).get('a'));
    });

    it('serves health and Prometheus metrics', async () => {
      const { bridge, t, rec } = await start();
      const e = await gov.onboard('a', 'EU');
      await until('published', () => rec.states(t.state).has('a'));
      await until('checkpoint', () => bridge.health().checkpoint === e.position.toString());
      const text = await bridge.metricsText();
      expect(text).toContain('cmk_bridge_published_messages_total{kind="state"} 1');
      expect(text).toContain('cmk_bridge_published_messages_total{kind="delta"} 3');
      expect(text).toMatch(/cmk_bridge_checkpoint_lag_events 0\b/);
      expect(text).toMatch(new RegExp(`cmk_bridge_checkpoint_position ${e.position}\\b`));
      expect(text).toMatch(/cmk_bridge_ready 1\b/);
    });

    it('a second instance on the same checkpoint is fenced off: exactly one keeps running', async () => {
      const fatal: Error[] = [];
      const a = await startBridge({ onFatal: (e) => fatal.push(e) });
      const b = await startBridge({ onFatal: (e) => fatal.push(e) });
      for (let i = 0; i < 20; i++) await gov.onboard(`t${i}`, 'EU');
      await until('one instance fenced', () => fatal.length === 1);
      expect(fatal[0].message).toMatch(/another bridge instance moved it/);
      const alive = [a, b].filter((x) => x.health().live);
      expect(alive).toHaveLength(1);
      await gov.onboard('later', 'EU');
      await until('the survivor to move on', async () => alive[0].health().checkpoint === (await ts.store.headPosition()).toString());
      expect(fatal).toHaveLength(1);
    });
  });
}
