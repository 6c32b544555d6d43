/**
 * Revocation receipts and usage: the facts the mesh bridge records (RevocationDispatched, RevocationEnforced,
 * UsageReported) are appended here directly, as the bridge appends them, and read back through the API.
 */
import { randomUUID } from 'node:crypto';
import { enforcementStream, usageStream } from '@cmk/domain';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, seedTenant } from './fixtures';

describe('control plane: revocation receipts and usage', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  it('shows when the revocation was recorded and when each expected region enforced it', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    expect((await cp.call('GET', `/v1/key-links/${keyLinkId}/revocation`, { token: admin })).body).toMatchObject({ status: 409, code: 'key-link-not-revoked' });

    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'suspected compromise' } });
    const position = String(revoke.body.position);
    const store = cp.running.infra.store;
    const [revoked] = await store.readStream(`keylink-${keyLinkId}`, { direction: 'backwards', maxCount: 1 });
    const at = (ms: number) => new Date(revoked.recordedAt.getTime() + ms).toISOString();
    const base = { tenantId, keyLinkId, cause: 'KeyLinkRevoked', revocationPosition: position };
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationDispatched', data: { ...base, regions: ['eu-central-1', 'us-east-1'] } }], { expectedRevision: 'any' });
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationEnforced', data: { ...base, workerId: 'w-eu', region: 'eu-central-1', enforcedAt: at(9) } }], { expectedRevision: 'any' });

    const pending = await cp.call('GET', `/v1/key-links/${keyLinkId}/revocation`, { token: admin });
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ confirmed: false, dispatched: true, pendingRegions: ['us-east-1'], reason: 'suspected compromise', revocationPosition: position });

    await store.append(enforcementStream(tenantId), [{ type: 'RevocationEnforced', data: { ...base, workerId: 'w-us', region: 'us-east-1', enforcedAt: at(23) } }], { expectedRevision: 'any' });
    const receipt = await cp.call('GET', `/v1/key-links/${keyLinkId}/revocation`, { token: admin });
    expect(receipt.body).toMatchObject({ confirmed: true, pendingRegions: [], allEnforcedAfterMs: 23, allEnforcedAt: at(23) });
    expect(receipt.body.regions.map((r: { region: string; afterMs: number }) => [r.region, r.afterMs])).toEqual([
      ['eu-central-1', 9],
      ['us-east-1', 23],
    ]);

    const outsider = await cp.token(['auditor'], { tenants: [randomUUID()] });
    expect((await cp.call('GET', `/v1/key-links/${keyLinkId}/revocation`, { token: outsider })).status).toBe(403);
    expect((await cp.call('GET', `/v1/key-links/${randomUUID()}/revocation`, { token: admin })).status).toBe(404);
    expect((await cp.call('GET', `/v1/key-links/${keyLinkId}/revocation`)).status).toBe(401);
  });

  it('sums usage reports per tenant, system, operation and outcome, as JSON or CSV, scoped to the caller', async () => {
    const { tenantId, systemId } = await seedTenant(cp, admin);
    const other = await seedTenant(cp, admin);
    const store = cp.running.infra.store;
    const report = (workerId: string, region: string, windowStart: string, counts: unknown[]) =>
      store.append(usageStream(workerId), [{ type: 'UsageReported', data: { workerId, region, reportId: randomUUID(), windowStart, windowEnd: windowStart, counts } }], {
        expectedRevision: 'any',
      });
    await report('w-eu', 'eu-central-1', '2026-11-28T23:59:00.000Z', [
      { tenantId, systemId, operation: 'unwrap', outcome: 'allowed', count: 5 },
      { tenantId, systemId, operation: 'unwrap', outcome: 'denied', count: 1 },
      { tenantId: other.tenantId, systemId: other.systemId, operation: 'wrap', outcome: 'allowed', count: 7 },
    ]);
    const last = await report('w-us', 'us-east-1', '2026-11-29T00:01:00.000Z', [{ tenantId, systemId, operation: 'unwrap', outcome: 'allowed', count: 3 }]);

    const total = await cp.call('GET', `/v1/usage?tenantId=${tenantId}&minPosition=${last.position}`, { token: admin });
    expect(total.status).toBe(200);
    expect(total.body.items).toEqual([
      { tenantId, systemId, operation: 'unwrap', outcome: 'allowed', count: 8 },
      { tenantId, systemId, operation: 'unwrap', outcome: 'denied', count: 1 },
    ]);
    const perDay = await cp.call('GET', `/v1/usage?tenantId=${tenantId}&granularity=day&from=2026-11-29&to=2026-11-29`, { token: admin });
    expect(perDay.body.items).toEqual([{ day: '2026-11-29', tenantId, systemId, operation: 'unwrap', outcome: 'allowed', count: 3 }]);

    const csv = await cp.call('GET', `/v1/usage?tenantId=${tenantId}`, { token: admin, headers: { accept: 'text/csv' } });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.body).toBe(`tenant_id,system_id,operation,outcome,count\n${tenantId},${systemId},unwrap,allowed,8\n${tenantId},${systemId},unwrap,denied,1\n`);

    const scoped = await cp.token(['tenant-admin'], { tenants: [other.tenantId] });
    const mine = await cp.call('GET', '/v1/usage', { token: scoped });
    expect(mine.body.items).toEqual([{ tenantId: other.tenantId, systemId: other.systemId, operation: 'wrap', outcome: 'allowed', count: 7 }]);
    expect((await cp.call('GET', `/v1/usage?tenantId=${tenantId}`, { token: scoped })).status).toBe(403);
    const bad = await cp.call('GET', '/v1/usage?from=2026-13-01', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'from', message: 'must be a date YYYY-MM-DD' }]);
  });
});
