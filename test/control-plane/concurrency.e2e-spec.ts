import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, seedTenant } from './fixtures';

describe('control plane: concurrent conflicting commands on one stream', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  async function assertContiguous(stream: string) {
    const events = await cp.running.infra.store.readStream(stream);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    return events;
  }

  it('50 concurrent updates: each either succeeds or gets 409, successes equal appended events, no gaps', async () => {
    const { tenantId } = await seedTenant(cp, admin);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: `Name ${i}` } })),
    );
    const ok = results.filter((r) => r.status === 200);
    const conflicts = results.filter((r) => r.status === 409);
    expect(ok.length + conflicts.length).toBe(50);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    conflicts.forEach((r) => expect(r.body.type).toMatch(/concurrency-conflict$/));
    const events = await assertContiguous(`tenant-${tenantId}`);
    expect(events.filter((e) => e.type === 'TenantUpdated')).toHaveLength(ok.length);
    expect(new Set(ok.map((r) => r.body.revision)).size).toBe(ok.length);
  });

  it('50 concurrent updates with the same If-Match: exactly one succeeds, 49 get 412', async () => {
    const { tenantId } = await seedTenant(cp, admin);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: `N${i}` }, headers: { 'if-match': '"0"' } })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 412)).toHaveLength(49);
    const events = await assertContiguous(`tenant-${tenantId}`);
    expect(events).toHaveLength(2);
  });

  it('revocation always wins: 25 revokes racing 25 activates end revoked, with exactly one KeyLinkRevoked', async () => {
    const { keyLinkId } = await seedTenant(cp, admin);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: `race ${i}` } })
          : cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token: admin, body: {} }),
      ),
    );
    // Revokes never fail: they re-decide on conflict.
    results.filter((_, i) => i % 2 === 0).forEach((r) => expect(r.status).toBe(200));
    const events = await assertContiguous(`keylink-${keyLinkId}`);
    expect(events.filter((e) => e.type === 'KeyLinkRevoked')).toHaveLength(1);
    expect(events[events.length - 1].type).toBe('KeyLinkRevoked');
  });
});
