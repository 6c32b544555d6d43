import { enforcementStream } from '@cmk/domain';
import { Database, migrateEventStore, openDatabase, PostgresEventStore } from '@cmk/event-store';
import { InProcessMesh } from '@cmk/mesh';
import { encodeMessage } from '@cmk/orbital';
import { MeshBridge } from '../../apps/mesh-bridge/src/mesh-bridge';
import { freshViews, testLogger, TopicRecorder, waitFor } from './support/bridge-fixtures';
import { Governance } from './support/governance';

/**
 * The embedded mode's whole wiring: the event store on PGlite (one connection shared by everything, no NOTIFY)
 * and the in-process mesh, as the control plane hosts them in one process.
 */
describe('MeshBridge in embedded mode (PGlite + in-process mesh)', () => {
  let db: Database;
  let store: PostgresEventStore;
  const mesh = new InProcessMesh();
  let bridge: MeshBridge;
  let recorder: TopicRecorder;

  beforeAll(async () => {
    db = await openDatabase({ kind: 'embedded', dataDir: 'memory://' });
    await migrateEventStore(db.pool, { schema: 'cmk_events' });
    store = new PostgresEventStore(db.pool, { schema: 'cmk_events', notify: false });
    bridge = new MeshBridge({ store, mesh, logger: testLogger }, { regions: ['eu-central-1', 'us-east-1'], heartbeatMs: 50 });
    await bridge.start();
    const t = bridge.topics;
    recorder = await TopicRecorder.start(mesh, [t.state, t.revocations, ...t.regionDeltas.values()]);
  }, 60_000);

  afterAll(async () => {
    await bridge?.stop();
    await recorder?.stop();
    await mesh.close();
    await store?.close();
    await db?.close();
  });

  it('publishes views and revocations, records the dispatch and the ack', async () => {
    const gov = new Governance(store);
    await gov.onboard('t1', 'EU');
    await gov.link('t1', 'k1');
    await gov.activate('t1', 'k1');
    const revoked = await gov.revoke('t1', 'k1');
    const t = bridge.topics;
    await waitFor('the revocation', () => recorder.of(t.revocations, 'revocation').some((r) => r.message.position === revoked.position.toString()));
    await waitFor('the revoked view', () => recorder.states(t.state).get('t1')?.view.keyLinks.k1?.status === 'revoked');
    expect(recorder.states(t.state).get('t1')!.view).toEqual((await freshViews(store)).get('t1'));
    await mesh.publish(t.acks, [
      {
        key: 'w1',
        value: encodeMessage({
          kind: 'revocation-enforced',
          workerId: 'w1',
          region: 'eu-central-1',
          tenantId: 't1',
          keyLinkId: 'k1',
          cause: 'KeyLinkRevoked',
          revocationPosition: revoked.position.toString(),
          enforcedAt: new Date().toISOString(),
        }),
      },
    ]);
    await waitFor('dispatch and ack recorded', async () => (await store.readStream(enforcementStream('t1'))).length === 2);
    expect((await store.readStream(enforcementStream('t1'))).map((e) => e.type).sort()).toEqual(['RevocationDispatched', 'RevocationEnforced']);
    await waitFor('ready', () => bridge.health().ready);
  });
});
