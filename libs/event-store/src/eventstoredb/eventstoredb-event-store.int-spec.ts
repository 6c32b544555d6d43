/**
 * The EventStoreDB adapter against an in-process protocol-level DOUBLE of the EventStoreDB Streams service
 * (test/doubles/eventstoredb: real gRPC, the client package's own service definitions; not a real server, none can
 * be installed here), once serving BatchAppend (servers 21.10+) and once Append only. With ESDB_CONNECTION_STRING
 * set, the same contract also runs against that real server.
 */
import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { auditFieldsOf, GENESIS_HASH, verifyStreamChain } from '@cmk/audit/hash-chain';
import { EventStoreDbDouble } from '../../../../test/doubles/eventstoredb/eventstoredb-double';
import { deriveEventId } from '../event-id';
import type { RecordedEvent } from '../event-store.port';
import { describeEventStoreContract } from '../testing/event-store.contract';
import { eventually, sleep } from '../testing/contract/support';
import { AuditStreamProtectedError } from './audit-stream-guard';
import { EventStoreDbEventStore } from './eventstoredb-event-store.adapter';
import type { EventStoreDbSubscription } from './eventstoredb-subscription';

for (const batchAppend of [true, false]) {
  describeEventStoreContract(`EventStoreDB adapter on the gRPC double (${batchAppend ? 'BatchAppend' : 'Append only'})`, async () => {
    const double = await EventStoreDbDouble.start({ batchAppend });
    const store = new EventStoreDbEventStore({ connectionString: double.connectionString });
    return {
      store,
      async cleanup() {
        await store.close();
        await double.stop();
      },
    };
  });
}

const realServer = process.env.ESDB_CONNECTION_STRING;
if (realServer) {
  describeEventStoreContract('EventStoreDB adapter on a real server (ESDB_CONNECTION_STRING)', async () => {
    const store = new EventStoreDbEventStore({ connectionString: realServer });
    return { store, cleanup: () => store.close() };
  });
}

describe('EventStoreDbEventStore on the gRPC double', () => {
  let double: EventStoreDbDouble;
  let store: EventStoreDbEventStore;
  let raw: EventStoreDBClient;

  beforeEach(async () => {
    double = await EventStoreDbDouble.start();
    store = new EventStoreDbEventStore({ connectionString: double.connectionString, maxReconnectDelayMs: 200 });
    raw = EventStoreDBClient.connectionString(double.connectionString);
  });

  afterEach(async () => {
    await store.close();
    await raw.dispose();
    await double.stop();
  });

  it('resumes a subscription whose connection dropped mid-stream: every event exactly once, in order', async () => {
    const category = `drop${randomUUID().slice(0, 8)}`;
    const head = await store.headPosition();
    const written: RecordedEvent[] = [];
    for (let i = 0; i < 40; i++) written.push(...(await store.append(`${category}-${i}`, [{ type: 'Tested', data: { i } }], { expectedRevision: 'no_stream' })).events);

    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeAll(
      async (batch) => {
        seen.push(...batch);
        await sleep(5);
      },
      { after: head, batchSize: 3, filter: { categories: [category] } },
    );
    await eventually(() => expect(seen.length).toBeGreaterThanOrEqual(6));
    expect(double.dropSubscriptions()).toBeGreaterThan(0);
    for (let i = 40; i < 60; i++) written.push(...(await store.append(`${category}-${i}`, [{ type: 'Tested', data: { i } }], { expectedRevision: 'no_stream' })).events);
    await eventually(() => expect(seen).toHaveLength(60));
    double.dropSubscriptions();
    written.push(...(await store.append(`${category}-60`, [{ type: 'Tested', data: { i: 60 } }], { expectedRevision: 'no_stream' })).events);
    await eventually(() => expect(seen).toHaveLength(61));
    await sleep(100);

    expect(seen.map((e) => e.id)).toEqual(written.map((e) => e.id));
    expect((subscription as EventStoreDbSubscription).reconnections).toBeGreaterThanOrEqual(2);
    expect(subscription.position).toBe(written[60].position);
    await subscription.stop();
  });

  it('never delivers system events ($-streams, the $by_category links the server writes)', async () => {
    const head = await store.headPosition();
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeAll(async (batch) => void seen.push(...batch), { after: head });
    const category = `sys${randomUUID().slice(0, 8)}`;
    await store.append(`${category}-1`, [{ type: 'Tested', data: {} }], { expectedRevision: 'no_stream' });
    await eventually(() => expect(seen).toHaveLength(1));
    await sleep(100);
    expect(double.log.length).toBeGreaterThan(2); // the double also wrote a $ce- link
    expect(seen.map((e) => e.streamName)).toEqual([`${category}-1`]);
    expect(await store.readAll({ after: head })).toHaveLength(1);
    await subscription.stop();
  });

  it('maps a conflicting append to ConcurrencyError with the revision the server reported, writing nothing', async () => {
    const stream = `conflict-${randomUUID()}`;
    await store.append(stream, [{ type: 'A', data: {} }, { type: 'B', data: {} }], { expectedRevision: 'no_stream' });
    await expect(store.append(stream, [{ type: 'C', data: {} }], { expectedRevision: 0 })).rejects.toMatchObject({
      name: 'ConcurrencyError',
      streamName: stream,
      expected: 0,
      actual: 1,
    });
    expect(await store.streamRevision(stream)).toBe(1);
  });

  it('recognises a duplicate the server detects by event id (the command index was never written: a crash in between)', async () => {
    const stream = `dup-${randomUUID()}`;
    const commandId = randomUUID();
    // What an adapter that crashed after its append and before its index write leaves behind.
    await raw.appendToStream(
      stream,
      [0, 1].map((i) => jsonEvent({ id: deriveEventId(commandId, i), type: 'Tested', data: { i } })),
      { expectedRevision: 'no_stream' },
    );
    const headBefore = await store.headPosition();
    const again = await store.append(stream, [{ type: 'Tested', data: { i: 0 } }, { type: 'Tested', data: { i: 1 } }], { expectedRevision: 'no_stream', commandId });
    expect(again.duplicate).toBe(true);
    expect(again.events.map((e) => e.revision)).toEqual([0, 1]);
    expect(again.events.map((e) => e.id)).toEqual([deriveEventId(commandId, 0), deriveEventId(commandId, 1)]);
    expect(await store.readStream(stream)).toEqual(again.events);
    // The re-send wrote the index, so even a re-send naming another stream now gets the first result.
    expect(await store.headPosition()).toBeGreaterThan(headBefore);
    const elsewhere = await store.append(`dup-${randomUUID()}`, [{ type: 'Tested', data: {} }], { expectedRevision: 'no_stream', commandId });
    expect(elsewhere).toEqual({ ...again, duplicate: true });
  });

  it('recognises a duplicate of events appended with explicit ids and no command id', async () => {
    const stream = `ids-${randomUUID()}`;
    const id = randomUUID();
    const first = await store.append(stream, [{ id, type: 'Tested', data: {} }], { expectedRevision: 'any' });
    const again = await store.append(stream, [{ id, type: 'Tested', data: {} }], { expectedRevision: 'any' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
    expect(await store.readStream(stream)).toHaveLength(1);
  });

  it("recognises a re-send with 'any' whose index write was lost, instead of chaining a second copy", async () => {
    const stream = `dupany-${randomUUID()}`;
    const commandId = randomUUID();
    await store.append(stream, [{ type: 'Tested', data: { i: 0 } }], { expectedRevision: 'no_stream' });
    // What a crash after the append and before the index write leaves behind, written by this adapter's chain.
    const original = await store.append(stream, [{ id: deriveEventId(commandId, 0), type: 'Tested', data: { i: 1 } }], { expectedRevision: 'any' });
    await store.append(stream, [{ type: 'Tested', data: { i: 2 } }], { expectedRevision: 'any' });
    const again = await store.append(stream, [{ type: 'Tested', data: { i: 1 } }], { expectedRevision: 'any', commandId });
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(original.events);
    const read = await store.readStream(stream);
    expect(read).toHaveLength(3);
    expect(verifyStreamChain(read)).toMatchObject({ ok: true });
  });

  it('restarts the chain from genesis after an event another client wrote without chain fields, so the verifier names that event', async () => {
    const stream = `unchained-${randomUUID()}`;
    await store.append(stream, [{ type: 'Tested', data: {} }], { expectedRevision: 'no_stream' });
    await raw.appendToStream(stream, jsonEvent({ type: 'Sneaked', data: {} }), { expectedRevision: 0n });
    const next = await store.append(stream, [{ type: 'Tested', data: {} }], { expectedRevision: 1 });
    expect(auditFieldsOf(next.events[0])).toMatchObject({ prevHash: GENESIS_HASH });
    expect(verifyStreamChain(await store.readStream(stream))).toMatchObject({ ok: false, kind: 'missing-chain-fields', revision: 1 });
  });

  it('refuses retention, truncation and ACL metadata on audit streams, and writes to system streams', async () => {
    const stream = `tenant-${randomUUID()}`;
    await store.append(stream, [{ type: 'TenantOnboarded', data: {} }], { expectedRevision: 'no_stream' });
    for (const metadata of [{ maxAge: 60 }, { maxCount: 1 }, { truncateBefore: 1 }, { acl: { readRoles: ['$admins'] } }, { $maxAge: 60 }]) {
      await expect(store.setStreamMetadata(stream, metadata)).rejects.toBeInstanceOf(AuditStreamProtectedError);
    }
    await expect(store.append(`$$${stream}`, [{ type: '$metadata', data: { $maxAge: 1 } }], { expectedRevision: 'any' })).rejects.toBeInstanceOf(AuditStreamProtectedError);
    await expect(store.append('checkpoint_x', [{ type: 'X', data: {} }], { expectedRevision: 'any' })).rejects.toBeInstanceOf(AuditStreamProtectedError);
    expect((await raw.getStreamMetadata(stream)).metadata ?? {}).toEqual({});
    await store.setStreamMetadata(stream, { owner: 'governance' });
    expect((await raw.getStreamMetadata(stream)).metadata).toEqual({ owner: 'governance' });
  });

  it('keeps consumer checkpoints in checkpoint_<consumer> streams limited to their latest event', async () => {
    expect(await store.checkpoints.compareAndSet('mesh-bridge', null, 10n)).toBe(true);
    expect(await store.checkpoints.compareAndSet('mesh-bridge', 10n, 20n)).toBe(true);
    expect(await store.checkpoints.compareAndSet('mesh-bridge', 10n, 30n)).toBe(false);
    expect(await store.checkpoints.get('mesh-bridge')).toBe(20n);
    expect((await raw.getStreamMetadata('checkpoint_mesh-bridge')).metadata).toEqual({ maxCount: 1 });
    const visible = [];
    for await (const e of raw.readStream('checkpoint_mesh-bridge')) visible.push(e);
    expect(visible).toHaveLength(1);
  });
});
