import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, seedTenant } from './fixtures';

describe('control plane: embedded mode (PGlite in process)', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane({ mode: 'embedded' });
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  it('runs the same commands, projections and queries over one shared connection', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'embedded' } });
    expect(revoke.status).toBe(200);
    const link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${revoke.body.position}`, { token: admin });
    expect(link.body.status).toBe('revoked');
    const audit = await cp.call('GET', `/v1/audit/events?tenantId=${tenantId}`, { token: admin });
    expect(audit.body.items.length).toBeGreaterThanOrEqual(5);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: `E${i}` } })));
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect((await cp.call('GET', '/health/ready')).status).toBe(200);
  });
});
