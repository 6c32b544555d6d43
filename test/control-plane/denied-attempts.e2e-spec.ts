/**
 * Refused requests in the audit: the real control plane on PostgreSQL, tokens from its test issuer (JWKS over
 * HTTP). Every 401 and 403 becomes an AccessDenied event in `denied-<yyyymmdd>`, rate-limited per source, listed
 * to auditors by the audit API, and never carrying a token or anything read from an unverified one.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { DENIED_ATTEMPTS, DeniedAttemptsRecorder } from '../../apps/control-plane/src/http/denied-attempts/denied-attempts.recorder';
import { seedTenant } from './fixtures';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
}, 120_000);
afterAll(async () => {
  await cp?.close();
});

/** The audit API's view of the denied streams, after everything queued has been written and projected. */
async function deniedEvents(token: string, type = 'AccessDenied') {
  await cp.running.app.get<symbol, DeniedAttemptsRecorder>(DENIED_ATTEMPTS).flush();
  const minPosition = (await cp.running.infra.store.headPosition()).toString();
  const res = await cp.call('GET', `/v1/audit/events?type=${type}&limit=500&minPosition=${minPosition}`, { token });
  expect(res.status).toBe(200);
  return res.body.items as { streamName: string; tenantId: string | null; data: Record<string, any>; metadata: Record<string, any> }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('denied attempts in the audit (real control plane on PostgreSQL)', () => {
  it('records who tried what and why for 401 and 403, without the token or unverified claims', async () => {
    const operator = await cp.token(['platform-operator']);
    const a = await seedTenant(cp, operator);
    const b = await seedTenant(cp, operator);
    const expired = await cp.token(['platform-operator'], { subject: 'sleepy', ttlSeconds: -120 });
    const forgedKey = await generateKeyPair('ES256');
    const forged = await new SignJWT({ roles: ['platform-operator'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'forged' })
      .setIssuer('urn:cmk:test-issuer')
      .setSubject('mallory')
      .setAudience('openkcm-cmk')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(forgedKey.privateKey);
    const auditorA = await cp.token(['auditor'], { subject: 'ivy', tenants: [a.tenantId] });
    const keyAdminB = await cp.token(['key-admin'], { subject: 'bob', tenants: [b.tenantId] });

    const calls = [
      await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { headers: { 'x-correlation-id': 'corr-missing' } }),
      await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { token: expired }),
      await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { token: forged }),
      await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      await cp.call('POST', `/v1/tenants/${a.tenantId}/suspend`, { token: auditorA, body: { reason: 'curious' } }),
      await cp.call('GET', `/v1/key-links/${a.keyLinkId}`, { token: keyAdminB }),
    ];
    expect(calls.map((c) => c.status)).toEqual([401, 401, 401, 401, 403, 403]);

    const events = await deniedEvents(operator);
    const byReason = Object.fromEntries(events.map((e) => [e.data.reason, e]));
    expect(Object.keys(byReason).sort()).toEqual(['expired', 'malformed-authorization-header', 'missing-token', 'role-missing', 'tenant-scope', 'unknown-key']);
    expect(events.every((e) => /^denied-\d{8}$/.test(e.streamName) && e.tenantId === null)).toBe(true);

    expect(byReason['missing-token'].data).toMatchObject({
      method: 'GET',
      path: '/v1/key-links/:keyLinkId',
      target: { keyLinkId: a.keyLinkId },
      status: 401,
      subject: 'unauthenticated',
      roles: [],
      source: expect.stringMatching(/127\.0\.0\.1/),
    });
    expect(byReason['missing-token'].data.correlationId).toEqual(expect.any(String));
    // A forged token names `mallory` and a trusted issuer; neither is verified, so neither is recorded.
    expect(byReason['unknown-key'].data).toMatchObject({ status: 401, subject: 'unauthenticated', roles: [] });
    expect(byReason['unknown-key'].data.issuer).toBeUndefined();
    expect(byReason['expired'].data.subject).toBe('unauthenticated');
    expect(byReason['role-missing'].data).toMatchObject({
      method: 'POST',
      path: '/v1/tenants/:tenantId/suspend',
      target: { tenantId: a.tenantId },
      status: 403,
      subject: 'ivy',
      issuer: 'urn:cmk:test-issuer',
      roles: ['auditor'],
    });
    expect(byReason['role-missing'].metadata.actor).toEqual({ subject: 'ivy', roles: ['auditor'] });
    expect(byReason['tenant-scope'].data).toMatchObject({ status: 403, subject: 'bob', roles: ['key-admin'], refusedTenantId: a.tenantId, target: { keyLinkId: a.keyLinkId } });

    const everything = JSON.stringify(events);
    for (const secret of [expired, forged, auditorA, keyAdminB, 'dXNlcjpwYXNz', 'mallory', 'sleepy']) expect(everything).not.toContain(secret);

    // Auditors filter by actor; a tenant's own admin does not see the platform's refusal records.
    const byActor = await cp.call('GET', '/v1/audit/events?type=AccessDenied&actor=bob', { token: operator });
    expect(byActor.body.items.map((e: { data: { reason: string } }) => e.data.reason)).toEqual(['tenant-scope']);
    const tenantAdmin = await cp.token(['tenant-admin'], { tenants: [a.tenantId] });
    expect((await cp.call('GET', '/v1/audit/events?type=AccessDenied', { token: tenantAdmin })).body.items).toEqual([]);

    const metrics = await cp.call('GET', '/metrics', { token: operator });
    expect(metrics.body).toMatch(/cmk_access_denied_total\{status="403",reason="tenant-scope"\} 1/);
    expect(metrics.body).toMatch(/cmk_access_denied_audit_total\{outcome="recorded"\} \d+/);
  });

  it('rate-limits a flood from one source to 20 records and one summary of the rest', async () => {
    const operator = await cp.token(['platform-operator']);
    const before = (await deniedEvents(operator)).filter((e) => e.data.status === 401).length;
    const flood = await Promise.all(Array.from({ length: 60 }, () => cp.call('GET', '/v1/tenants')));
    expect(flood.every((r) => r.status === 401)).toBe(true);

    const recorded = (await deniedEvents(operator)).filter((e) => e.data.status === 401);
    // The budget is per (source, status) and refills slowly; at most a token or two came back during the test.
    expect(recorded.length).toBeGreaterThanOrEqual(20);
    expect(recorded.length).toBeLessThanOrEqual(22);
    const summaries = await deniedEvents(operator, 'AccessDeniedSuppressed');
    const suppressed = summaries.filter((s) => s.data.status === 401).reduce((n, s) => n + s.data.count, 0);
    expect(suppressed + recorded.length).toBe(before + 60);
    expect(summaries[0].data).toMatchObject({ source: expect.stringMatching(/127\.0\.0\.1/), window: { from: expect.any(String), to: expect.any(String) } });
  });
});
