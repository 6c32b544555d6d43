import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, seedTenant, tenantBody } from './fixtures';

/** Every error path answers problem+json with its status, a stable type, and no stack trace; none changes state. */
describe('control plane: error paths', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL, { subject: 'errors-admin' });
  });
  afterAll(() => cp.close());

  function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, type: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe(`https://openkcm.dev/problems/${type}`);
    expect(res.body.status).toBe(status);
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  }

  it('400: names each invalid field, refuses unknown fields, and appends nothing', async () => {
    const before = await cp.running.infra.store.headPosition();
    const res = await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ jurisdiction: 'MARS', homeRegion: 'Not A Region', contacts: [{ name: '', email: 'nope' }], extra: 1 }) });
    expectProblem(res, 400, 'validation-error');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['jurisdiction', 'homeRegion', 'contacts[0].name', 'contacts[0].email', 'extra']));
    expect(await cp.running.infra.store.headPosition()).toBe(before);
  });

  it('400: malformed JSON, bad UUID in the path, bad query parameters, bad If-Match', async () => {
    expectProblem(await cp.call('POST', '/v1/tenants', { token: admin, raw: '{"displayName": ' }), 400, 'malformed-json');
    expectProblem(await cp.call('GET', '/v1/tenants/not-a-uuid', { token: admin }), 400, 'bad-request');
    const q = await cp.call('GET', '/v1/tenants?limit=0&minPosition=abc', { token: admin });
    expectProblem(q, 400, 'validation-error');
    expect(q.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['limit', 'minPosition']));
    const { tenantId } = await seedTenant(cp, admin);
    expectProblem(await cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: 'x' }, headers: { 'if-match': 'three' } }), 400, 'bad-if-match');
  });

  it('400: an invalid policy document reports the path of each offending field', async () => {
    const res = await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'bad', document: { keyStrength: { minimumBits: { RSA: -1 } }, rotation: { maxAgeDays: 10, warningDays: 20 } } } });
    expectProblem(res, 400, 'validation-error');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['$.keyStrength.minimumBits.RSA', '$.rotation.warningDays']);
  });

  it('401: missing, malformed, expired, foreign-signed and alg:none tokens', async () => {
    const missing = await cp.call('GET', '/v1/tenants');
    expectProblem(missing, 401, 'unauthenticated');
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expectProblem(await cp.call('GET', '/v1/tenants', { headers: { authorization: 'Basic abc' } }), 401, 'unauthenticated');
    const expired = await cp.token(ALL, { ttlSeconds: -120 });
    const res = await cp.call('GET', '/v1/tenants', { token: expired });
    expectProblem(res, 401, 'unauthenticated');
    expect(res.body.detail).toBe('token expired');
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ roles: ALL }).setProtectedHeader({ alg: 'ES256', kid: 'evil' }).setIssuer('urn:cmk:test-issuer').setAudience('openkcm-cmk').setSubject('mallory').setExpirationTime('5m').sign(privateKey);
    expectProblem(await cp.call('GET', '/v1/tenants', { token: foreign }), 401, 'unauthenticated');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', roles: ALL, iss: 'urn:cmk:test-issuer', aud: 'openkcm-cmk' })).toString('base64url')}.`;
    expectProblem(await cp.call('GET', '/v1/tenants', { token: none }), 401, 'unauthenticated');
  });

  it('403: wrong role at the edge, other tenant in the handler; nothing changes', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    const auditor = await cp.token(['auditor']);
    expectProblem(await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: auditor, body: { reason: 'x' } }), 403, 'forbidden');
    const otherTenantAdmin = await cp.token(['tenant-admin', 'key-admin'], { tenants: [randomUUID()] });
    expectProblem(await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: otherTenantAdmin, body: { reason: 'x' } }), 403, 'forbidden');
    expectProblem(await cp.call('GET', `/v1/tenants/${tenantId}`, { token: otherTenantAdmin }), 403, 'forbidden');
    expectProblem(await cp.call('GET', `/v1/key-links/${keyLinkId}`, { token: otherTenantAdmin }), 403, 'forbidden');
    const list = await cp.call('GET', '/v1/key-links', { token: otherTenantAdmin });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    const ownAdmin = await cp.token(['tenant-admin', 'key-admin'], { tenants: [tenantId] });
    const own = await cp.call('GET', '/v1/key-links', { token: ownAdmin });
    expect(own.body.items.map((l: { keyLinkId: string }) => l.keyLinkId)).toEqual([keyLinkId]);
    const link = await cp.call('GET', `/v1/key-links/${keyLinkId}`, { token: admin });
    expect(link.body.status).toBe('active');
  });

  it('404: unknown tenant, key link, policy and route', async () => {
    expectProblem(await cp.call('GET', `/v1/tenants/${randomUUID()}`, { token: admin }), 404, 'not-found');
    const revoke = await cp.call('POST', `/v1/key-links/${randomUUID()}/revoke`, { token: admin, body: { reason: 'x' } });
    expectProblem(revoke, 404, 'not-found');
    expect(revoke.body.code).toBe('key-link.not-found');
    const link = await cp.call('POST', `/v1/tenants/${randomUUID()}/key-links`, { token: admin, body: linkBody() });
    expectProblem(link, 404, 'not-found');
    expect(link.body.code).toBe('tenant.not-found');
    expectProblem(await cp.call('POST', `/v1/policies/${randomUUID()}/assignments`, { token: admin, body: { scope: 'global' } }), 404, 'not-found');
    expectProblem(await cp.call('GET', '/v1/nothing-here', { token: admin }), 404, 'not-found');
  });

  it('409: invalid state transitions and duplicate creation', async () => {
    const { tenantId } = await seedTenant(cp, admin);
    const dup = await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    expectProblem(dup, 409, 'invalid-state');
    expect(dup.body.code).toBe('tenant.exists');
  });

  it('412: If-Match with a stale revision; 200 with the current one', async () => {
    const { tenantId } = await seedTenant(cp, admin);
    const stale = await cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: 'Renamed' }, headers: { 'if-match': '"7"' } });
    expectProblem(stale, 412, 'precondition-failed');
    expect(stale.body.currentRevision).toBe(0);
    const ok = await cp.call('PATCH', `/v1/tenants/${tenantId}`, { token: admin, body: { displayName: 'Renamed' }, headers: { 'if-match': '"0"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"1"');
  });

  it('422: policy violation lists every violated rule', async () => {
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    const p = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'aes only', document: { keyStrength: { allowedAlgorithms: ['AES'], minimumBits: { AES: 256, RSA: 4096 } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${p.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    const res = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'RSA', keySize: 3072 }) });
    expectProblem(res, 422, 'policy-violation');
    expect(res.body.violations.map((v: { rule: string }) => v.rule).sort()).toEqual(['key-strength.allowed-algorithms', 'key-strength.minimum-bits']);
  });

  it('422: a local (software, demo) key link outside embedded mode', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) })).status).toBe(201);
    const res = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ providerKind: 'local', keyReference: 'local:key=demo-root' }) });
    expectProblem(res, 422, 'policy-violation');
    expect(res.body.violations.map((v: { rule: string }) => v.rule)).toEqual(['provider.local-demo-only']);
  });
});
