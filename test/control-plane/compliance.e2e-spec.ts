import { randomUUID } from 'node:crypto';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, tenantBody } from './fixtures';

describe('control plane: compliance report', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  it('lists the links that violate the policies in force after an accepted tightening, per tenant', async () => {
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    const weak = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'RSA', keySize: 3072 }) });
    const strong = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'AES', keySize: 256 }) });
    expect((await cp.call('GET', `/v1/compliance?tenantId=${tenantId}`, { token: admin })).body).toMatchObject({ keyLinksEvaluated: 2, violations: [] });

    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'rsa 4096', document: { keyStrength: { minimumBits: { RSA: 4096 } }, rotation: { maxAgeDays: 90, warningDays: 14 } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId, acceptImpact: true } }));
    const report = await cp.call('GET', `/v1/compliance?tenantId=${tenantId}`, { token: admin });
    expect(report.status).toBe(200);
    expect(report.body.violations).toEqual([
      expect.objectContaining({ keyLinkId: weak.body.id, tenantId, rule: 'key-strength.minimum-bits', policyId: policy.id, policyVersion: 1 }),
    ]);
    expect(report.body.rotation).toEqual({ overdue: [], warning: [], needsPerson: [], tenantKeys: { overdue: [], warning: [] } });
    expect(report.body.violations.some((v: { keyLinkId: string }) => v.keyLinkId === strong.body.id)).toBe(false);

    const outsider = await cp.token(['auditor'], { tenants: [randomUUID()] });
    expect((await cp.call('GET', `/v1/compliance?tenantId=${tenantId}`, { token: outsider })).status).toBe(403);
    expect((await cp.call('GET', '/v1/compliance', { token: outsider })).body).toMatchObject({ keyLinksEvaluated: 0, violations: [] });
  });
});
