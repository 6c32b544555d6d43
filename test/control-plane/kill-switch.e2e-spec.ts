/** The red button: blast radius dry run, then a scoped kill switch that fans out to one revocation per link. */
import { randomUUID } from 'node:crypto';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, linkBody, seedTenant, tenantBody } from './fixtures';

describe('control plane: scoped kill switch', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  it('lists the blast radius without changing anything, then revokes exactly that scope with a receipt per link', async () => {
    const region = `xx-test-${Math.floor(Math.random() * 1e6)}`;
    const a = await seedTenant(cp, admin);
    const b = await seedTenant(cp, admin);
    // A link rooted in the test region for each tenant, plus a pending one for a; one link elsewhere stays.
    const rooted: string[] = [];
    for (const tenantId of [a.tenantId, b.tenantId, a.tenantId]) {
      const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ providerRegion: region }) });
      expect(link.status).toBe(201);
      rooted.push(link.body.id);
    }
    for (const id of rooted.slice(0, 2)) expect((await cp.call('POST', `/v1/key-links/${id}/activate`, { token: admin, body: {} })).status).toBe(200);
    const system = await cp.call('POST', `/v1/tenants/${b.tenantId}/systems`, { token: admin, body: { name: 'ledger', region: 'us-east-1', keyLinkId: rooted[1] } });
    expect(system.status).toBe(201);

    const dry = await cp.call('POST', '/v1/kill-switch/dry-run', { token: admin, body: { scope: { providerRegion: region } } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ keyLinks: 3, tenants: 2, systems: 1, regions: [{ region: 'us-east-1', systems: 1 }], truncated: false });
    expect(dry.body.items.map((l: { keyLinkId: string }) => l.keyLinkId).sort()).toEqual([...rooted].sort());
    expect((await cp.call('GET', `/v1/key-links/${rooted[0]}`, { token: admin })).body.status).toBe('active');

    const stale = await cp.call('POST', '/v1/kill-switch', { token: admin, body: { scope: { providerRegion: region }, reason: 'region compromised', expectedKeyLinks: 2 } });
    expect(stale.status).toBe(409);
    expect(stale.body.code ?? stale.body.type).toMatch(/kill-switch-scope-changed/);

    const fired = await cp.call('POST', '/v1/kill-switch', { token: admin, body: { scope: { providerRegion: region }, reason: 'region compromised', expectedKeyLinks: 3 } });
    expect(fired.status).toBe(200);
    expect(fired.body).toMatchObject({ keyLinks: 3, failed: [] });
    expect(fired.body.revoked).toHaveLength(3);
    for (const id of rooted) {
      const link = await cp.call('GET', `/v1/key-links/${id}?minPosition=${fired.body.position}`, { token: admin });
      expect(link.body.status).toBe('revoked');
      const receipt = await cp.call('GET', `/v1/key-links/${id}/revocation`, { token: admin });
      expect(receipt.body.reason).toBe(`kill switch ${fired.body.killSwitchId}: region compromised`);
    }
    // Outside the scope nothing changed.
    expect((await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { token: admin })).body.status).toBe('active');
    // The intent and the outcome are in the audit log.
    const audit = await cp.call('GET', `/v1/audit/events?type=KillSwitchActivated&minPosition=${fired.body.position}`, { token: admin });
    expect(audit.body.items.some((e: { data: { killSwitchId: string } }) => e.data.killSwitchId === fired.body.killSwitchId)).toBe(true);
    // Nothing left in scope.
    expect((await cp.call('POST', '/v1/kill-switch/dry-run', { token: admin, body: { scope: { providerRegion: region } } })).body.keyLinks).toBe(0);
  });

  it('refuses a scope with no or several criteria, and callers outside the scope', async () => {
    for (const scope of [{}, { providerKind: 'pkcs11', jurisdiction: 'EU' }]) {
      const res = await cp.call('POST', '/v1/kill-switch/dry-run', { token: admin, body: { scope } });
      expect(res.status).toBe(400);
    }
    expect((await cp.call('POST', '/v1/kill-switch/dry-run', { token: admin, body: { scope: { all: false } } })).status).toBe(400);
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    const scoped = await cp.token(['security-officer'], { tenants: [tenantId] });
    expect((await cp.call('POST', '/v1/kill-switch/dry-run', { token: scoped, body: { scope: { all: true } } })).status).toBe(403);
    expect((await cp.call('POST', '/v1/kill-switch/dry-run', { token: scoped, body: { scope: { tenantId } } })).status).toBe(200);
    const keyAdmin = await cp.token(['key-admin']);
    expect((await cp.call('POST', '/v1/kill-switch', { token: keyAdmin, body: { scope: { tenantId }, reason: 'x' } })).status).toBe(403);
  });
});
