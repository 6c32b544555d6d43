/**
 * The access-decision lane on the in-process mesh (the embedded mode's broker), behind a wrapper that refuses
 * publishes while "the broker is down": reports wait in the outbox and arrive once it is back; beyond the
 * outbox bound the oldest report is dropped and what it held is counted.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { InProcessMesh, Mesh, MeshMessage } from '@cmk/mesh';
import { AccessDenialsMessage, decodeMessage } from '@cmk/orbital';
import { AccessDenialLane } from './access-denial-lane';

const TOPIC = 'cmk.access-decisions';

/** Publishing fails while `down`, as a KafkaJS producer does when no broker answers. */
class OutageMesh implements Mesh {
  down = false;
  constructor(private readonly inner: InProcessMesh) {}
  publish(topic: string, messages: readonly MeshMessage[]): Promise<void> {
    return this.down ? Promise.reject(new Error('broker unavailable')) : this.inner.publish(topic, messages);
  }
  subscribe: Mesh['subscribe'] = (...args) => this.inner.subscribe(...args);
  ensureTopics: Mesh['ensureTopics'] = (topics) => this.inner.ensureTopics(topics);
  close = () => this.inner.close();
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('AccessDenialLane (in-process mesh with a simulated broker outage)', () => {
  let inner: InProcessMesh;
  let mesh: OutageMesh;
  let registry: Registry;
  let received: AccessDenialsMessage[];
  let lane: AccessDenialLane | undefined;

  beforeEach(async () => {
    inner = new InProcessMesh();
    mesh = new OutageMesh(inner);
    registry = new Registry();
    await inner.ensureTopics([{ name: TOPIC, partitions: 2 }]);
    received = [];
    await inner.subscribe(TOPIC, { fromBeginning: true }, async (m) => {
      received.push(decodeMessage(m.value, 'access-denials'));
    });
  });
  afterEach(async () => {
    mesh.down = false;
    await lane?.close(1_000);
    await inner.close();
  });

  const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0);

  it('keeps reports while the broker is down and publishes them, in order, once it is back', async () => {
    lane = new AccessDenialLane({ workerId: 'w1', region: 'eu-central-1', mesh, topic: TOPIC, log: pino({ level: 'silent' }), registry, detailLimit: 2 });
    mesh.down = true;
    for (let window = 0; window < 3; window++) {
      for (let i = 0; i < 5; i++) lane.record({ operation: 'unwrap', reason: 'key-link-revoked', tenantId: `t${window}`, systemId: 's1' });
      lane.flush();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual([]);
    expect(lane.pending).toBe(3);

    mesh.down = false;
    await until(() => received.length === 3);
    expect(received.map((m) => [m.denials[0].tenantId, m.denials.length, m.suppressed[0].count])).toEqual([
      ['t0', 2, 3],
      ['t1', 2, 3],
      ['t2', 2, 3],
    ]);
    expect(lane.pending).toBe(0);
    expect(await metric('cmk_worker_access_denial_reports_published_total')).toBe(3);
    expect(await metric('cmk_worker_access_denials_suppressed_total')).toBe(9);
    expect(await metric('cmk_worker_access_denials_lost_total')).toBe(0);
  });

  it('beyond its bound drops the oldest report, and counts and logs every denial it held', async () => {
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    lane = new AccessDenialLane({ workerId: 'w1', region: 'eu-central-1', mesh, topic: TOPIC, log, registry, detailLimit: 1, capacity: 2 });
    mesh.down = true;
    for (const tenant of ['oldest', 'middle', 'newest']) {
      for (let i = 0; i < 4; i++) lane.record({ operation: 'wrap', reason: 'unknown-system', tenantId: tenant, systemId: 's' });
      lane.flush();
      // Windows are far apart: each publish attempt has been refused before the next report comes.
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(lane.pending).toBe(2);
    expect(await metric('cmk_worker_access_denials_lost_total')).toBe(4);
    expect(logged.some((l) => l.includes('access-denial outbox full') && l.includes('"denials":4'))).toBe(true);

    mesh.down = false;
    await until(() => received.length === 2);
    expect(received.map((m) => m.denials[0].tenantId)).toEqual(['middle', 'newest']);
  });

  it('publishes nothing for a window without denials, and flushes the open window when closed', async () => {
    lane = new AccessDenialLane({ workerId: 'w1', region: 'eu-central-1', mesh, topic: TOPIC, log: pino({ level: 'silent' }), registry, detailLimit: 100 });
    lane.flush();
    lane.record({ operation: 'generate-data-key', reason: 'missing-credentials' });
    await lane.close(5_000);
    lane = undefined;
    await until(() => received.length === 1);
    expect(received[0].denials).toEqual([{ at: expect.any(String), operation: 'generate-data-key', reason: 'missing-credentials' }]);
  });
});
