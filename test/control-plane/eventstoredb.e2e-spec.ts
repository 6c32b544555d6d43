/**
 * The control plane with its events in EventStoreDB: here the in-process protocol-level DOUBLE of the EventStoreDB
 * Streams service (test/doubles/eventstoredb), read models on the real PostgreSQL.
 */
import { loadConfig } from '../../apps/control-plane/src/config/config';
import { EventStoreDbDouble } from '../doubles/eventstoredb/eventstoredb-double';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, seedTenant } from './fixtures';

describe('control plane on EventStoreDB (gRPC double)', () => {
  let double: EventStoreDbDouble;
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    double = await EventStoreDbDouble.start();
    cp = await startTestControlPlane({ env: { CMK_EVENT_STORE: 'eventstoredb', ESDB_CONNECTION_STRING: double.connectionString } });
    admin = await cp.token(ALL);
  });
  afterAll(async () => {
    await cp?.close();
    await double?.stop();
  });

  it('runs commands into EventStoreDB streams and projects them into the read models', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'esdb' } });
    expect(revoke.status).toBe(200);
    const link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${revoke.body.position}`, { token: admin });
    expect(link.body.status).toBe('revoked');
    const audit = await cp.call('GET', `/v1/audit/events?tenantId=${tenantId}`, { token: admin });
    expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['TenantOnboarded', 'KeyLinked', 'KeyLinkRevoked']));
    // The streams really are in the EventStoreDB double, named as everywhere else.
    const streams = new Set(Array.from({ length: double.log.length }, (_, i) => double.log.recordAt(i).streamName));
    expect(streams.has(`tenant-${tenantId}`)).toBe(true);
    expect(streams.has(`keylink-${keyLinkId}`)).toBe(true);
    expect((await cp.call('GET', '/health/ready')).status).toBe(200);
  });

  it('stops at start-up on a bad connection string, naming the setting', () => {
    expect(() => loadConfig({ CMK_DATABASE_URL: 'postgres://x/y', CMK_AUTH_JWKS_URL: 'http://idp/jwks', CMK_AUTH_ISSUER: 'i', CMK_EVENT_STORE: 'eventstoredb', ESDB_CONNECTION_STRING: 'esdb://h:2113?tls=nope' })).toThrow(
      'Invalid configuration: ESDB_CONNECTION_STRING option tls must be true or false',
    );
    expect(() => loadConfig({ CMK_EVENT_STORE: 'eventstoredb' })).toThrow('CMK_EVENT_STORE eventstoredb needs CMK_MODE=postgres');
  });
});
