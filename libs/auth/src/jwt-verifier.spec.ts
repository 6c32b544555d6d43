import { SignJWT } from 'jose';
import { DevIssuer } from './dev-issuer';
import { AuthenticationError, JwtVerifier, TokenRefused } from './jwt-verifier';
import { IssuerRegistry } from './issuer-registry';
import { assertTenantAccess, TenantAccessDenied } from './tenant-scope';

describe('JwtVerifier', () => {
  let issuer: DevIssuer;
  let verifier: JwtVerifier;
  beforeAll(async () => {
    issuer = await DevIssuer.open({ issuer: 'urn:test', audience: 'cmk' });
    verifier = new JwtVerifier({ issuer: 'urn:test', audience: 'cmk', jwks: issuer.jwks, rolesClaim: 'roles', tenantClaim: 'tenants', clockToleranceSeconds: 5, roleMapping: { 'okta-kms-admins': 'key-admin' } });
  });

  it('maps roles (dropping unknown ones) and leaves platform-wide roles unscoped', async () => {
    const actor = await verifier.verify(await issuer.issue({ subject: 'op', roles: ['platform-operator', 'okta-kms-admins', 'superuser'] }));
    expect(actor).toMatchObject({ subject: 'op', roles: ['platform-operator', 'key-admin'] });
    expect(actor.tenantScope).toBeUndefined();
  });

  it('scopes tenant roles to the tenant claim, and to nothing without one', async () => {
    const scoped = await verifier.verify(await issuer.issue({ subject: 'ta', roles: ['tenant-admin'], tenants: ['t1'] }));
    expect(scoped.tenantScope).toEqual(['t1']);
    expect(() => assertTenantAccess(scoped, 't2')).toThrow(TenantAccessDenied);
    expect(() => assertTenantAccess(scoped, 't1')).not.toThrow();
    const unscoped = await verifier.verify(await issuer.issue({ subject: 'tb', roles: ['tenant-admin'] }));
    expect(unscoped.tenantScope).toEqual([]);
    expect(() => assertTenantAccess(unscoped, 't1')).toThrow(TenantAccessDenied);
  });

  it.each([
    ['expired', () => issuer.issue({ subject: 's', roles: [], ttlSeconds: -60 }), 'token expired'],
    ['garbage', async () => 'not.a.jwt', 'token is malformed'],
    ['HS256', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('urn:test').setAudience('cmk').setSubject('s').sign(new Uint8Array(32)), 'not allowed'],
  ])('rejects %s tokens', async (_name, make, reason) => {
    await expect(verifier.verify(await make())).rejects.toThrow(AuthenticationError);
    await expect(verifier.verify(await make())).rejects.toThrow(reason);
  });

  it('serves a verified token from its cache only until the token expires', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      jest.setSystemTime(new Date('2026-01-01T00:00:00Z'));
      const token = await issuer.issue({ subject: 'cached', roles: ['auditor'], ttlSeconds: 60 });
      expect((await verifier.verify(token)).subject).toBe('cached');
      expect((await verifier.verify(token)).subject).toBe('cached');
      jest.setSystemTime(new Date('2026-01-01T00:02:00Z'));
      await expect(verifier.verify(token)).rejects.toThrow('token expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects a wrong audience and a wrong issuer', async () => {
    const other = await DevIssuer.open({ issuer: 'urn:other', audience: 'cmk' });
    const otherVerifier = new JwtVerifier({ issuer: 'urn:test', audience: 'cmk', jwks: other.jwks, rolesClaim: 'roles', tenantClaim: 'tenants', clockToleranceSeconds: 0 });
    await expect(otherVerifier.verify(await other.issue({ subject: 's', roles: [] }))).rejects.toThrow(/iss/);
    const wrongAud = await DevIssuer.open({ issuer: 'urn:test', audience: 'elsewhere' });
    const v2 = new JwtVerifier({ issuer: 'urn:test', audience: 'cmk', jwks: wrongAud.jwks, rolesClaim: 'roles', tenantClaim: 'tenants', clockToleranceSeconds: 0 });
    await expect(v2.verify(await wrongAud.issue({ subject: 's', roles: [] }))).rejects.toThrow(/aud/);
  });

  it('refuses with a TokenRefused that existing callers still catch as AuthenticationError', async () => {
    const error = await verifier.verify(await issuer.issue({ subject: 's', roles: [], ttlSeconds: -60 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'expired', reason: 'token expired' });
  });

  it('fronts a multi-issuer registry for callers that expect a JwtVerifier', async () => {
    const second = await DevIssuer.open({ issuer: 'urn:second', audience: 'cmk' });
    const registry = new IssuerRegistry([
      { issuer: 'urn:test', audience: 'cmk', jwks: issuer.jwks, rolesClaim: 'roles' },
      { issuer: 'urn:second', audience: 'cmk', jwks: second.jwks, rolesClaim: 'roles', roleMapping: { ops: 'platform-operator' } },
    ]);
    const multi = new JwtVerifier(registry);
    expect((await multi.verify(await issuer.issue({ subject: 'one', roles: ['auditor'] }))).roles).toEqual(['auditor']);
    expect(await multi.verify(await second.issue({ subject: 'two', roles: ['ops'] }))).toMatchObject({ subject: 'two', issuer: 'urn:second', roles: ['platform-operator'] });
    multi.close();
  });
});
