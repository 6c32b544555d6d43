import { createHmac } from 'node:crypto';
import { OidcTestProvider } from '../../../test/support/oidc/oidc-provider';
import { TokenRefused, TokenRefusalReason } from './auth.errors';
import { IssuerRegistry } from './issuer-registry';

const API = 'urn:cmk:api';
const OTHER_API = 'urn:other:api';
const resources = { [API]: { scope: 'cmk', ttlSeconds: 300 }, [OTHER_API]: { scope: 'other' } };

async function refusal(promise: Promise<unknown>): Promise<TokenRefusalReason> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRefused) return error.code;
    throw error;
  }
  throw new Error('the token was accepted');
}
const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8')) as Record<string, unknown>;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Two real OpenID Providers (oidc-provider 9, child processes) with different claim layouts, one registry trusting
 * both. People sign in with authorization code + PKCE; workloads use client_credentials.
 */
describe('IssuerRegistry against two real OpenID Providers (oidc-provider)', () => {
  let a: OidcTestProvider;
  let b: OidcTestProvider;
  let untrusted: OidcTestProvider;
  let registry: IssuerRegistry;
  let offsetMs = 0;

  beforeAll(async () => {
    [a, b, untrusted] = await Promise.all([
      OidcTestProvider.start({
        alg: 'ES256',
        resources,
        defaultResource: API,
        users: {
          alice: { claims: { groups: ['kms-admins'], tenant: 'tenant-a' } },
          bob: { claims: { groups: ['kms-auditors'] } },
          carol: { claims: { groups: ['kms-admins', 'kms-auditors', 'platform-operator'], tenant: ['tenant-a', 'tenant-c'] } },
        },
        workloads: { 'billing-worker': { claims: { cmk_system: 'sys-billing', tenant: 'tenant-a' } } },
      }),
      OidcTestProvider.start({
        alg: 'RS256',
        resources,
        defaultResource: API,
        users: {
          dave: { claims: { realm_access: { roles: ['KeyCustodian'] }, org: { tenant_id: 'tenant-b' } } },
          erin: { claims: { realm_access: { roles: ['Ops', 'offline_access'] } } },
          // The other issuer's claim layout means nothing here.
          frank: { claims: { groups: ['kms-admins'], tenant: 'tenant-a' } },
        },
        workloads: {
          'payments-svc': { claims: { org: { tenant_id: 'tenant-b' }, realm_access: { roles: ['KeyCustodian'] } } },
          'rogue-svc': { claims: { org: { tenant_id: 'tenant-b' } } },
        },
      }),
      OidcTestProvider.start({ resources, defaultResource: API, users: { mallory: { claims: { groups: ['platform-operator'] } } }, workloads: {} }),
    ]);
    registry = new IssuerRegistry(
      [
        {
          issuer: a.issuer,
          audience: API,
          rolesClaim: 'groups',
          tenantClaim: 'tenant',
          roleMapping: { 'kms-admins': 'key-admin', 'kms-auditors': 'auditor' },
          passThroughCmkRoles: false,
          clockToleranceSeconds: 5,
          workload: { systemClaim: 'cmk_system' },
        },
        {
          issuer: b.issuer,
          jwksUrl: `${b.issuer}/jwks`,
          audience: ['urn:cmk:legacy', API],
          algorithms: ['RS256'],
          rolesClaim: 'realm_access.roles',
          tenantClaim: 'org.tenant_id',
          roleMapping: { KeyCustodian: 'key-admin', Ops: 'platform-operator' },
          clockToleranceSeconds: 5,
          workload: { systemClaim: 'client_id', systems: { 'payments-svc': 'sys-payments' } },
        },
      ],
      // Long cooldown and key age: the fetch counts asserted below must not depend on how fast this suite runs.
      { now: () => Date.now() + offsetMs, tuning: { refreshCooldownMs: 3_600_000, maxKeyAgeMs: 3_600_000 } },
    );
    expect(await registry.start()).toEqual({ unavailable: [] });
  });

  afterAll(async () => {
    registry?.close();
    await Promise.all([a?.stop(), b?.stop(), untrusted?.stop()]);
  });

  afterEach(() => {
    offsetMs = 0;
  });

  it('loaded A by OIDC discovery and B from its explicit JWKS URL, once each', async () => {
    expect(await a.stats()).toMatchObject({ discovery: 1, jwks: 1 });
    expect(await b.stats()).toMatchObject({ discovery: 0, jwks: 1 });
  });

  it("maps people signed in at A (authorization code + PKCE) with A's groups claim and tenant claim", async () => {
    const alice = await registry.verify(await a.signIn('alice'));
    expect(alice).toMatchObject({ kind: 'person', issuer: a.issuer, actor: { subject: 'alice', roles: ['key-admin'], tenantScope: ['tenant-a'], issuer: a.issuer } });
    const bob = await registry.verify(await a.signIn('bob'));
    expect(bob).toMatchObject({ kind: 'person', actor: { subject: 'bob', roles: ['auditor'] } });
    expect(bob.actor.tenantScope).toBeUndefined();
    // A does not pass CMK role names through: only its mapping table grants roles.
    const carol = await registry.verify(await a.signIn('carol'));
    expect(carol.actor).toMatchObject({ roles: ['key-admin', 'auditor'], tenantScope: ['tenant-a', 'tenant-c'] });
  });

  it("maps people signed in at B with B's nested realm_access.roles and org.tenant_id", async () => {
    const dave = await registry.verify(await b.signIn('dave'));
    expect(dave).toMatchObject({ kind: 'person', issuer: b.issuer, actor: { subject: 'dave', roles: ['key-admin'], tenantScope: ['tenant-b'] } });
    const erin = await registry.verify(await b.signIn('erin'));
    expect(erin.actor.roles).toEqual(['platform-operator']);
    expect(erin.actor.tenantScope).toBeUndefined();
    const frank = await registry.verify(await b.signIn('frank'));
    expect(frank.actor).toMatchObject({ roles: [], tenantScope: [] });
  });

  it('refuses a wrong password at the provider (the sign-in is real)', async () => {
    await expect(a.signIn('alice', { password: 'wrong' })).rejects.toThrow(/access_denied/);
  });

  it('maps client_credentials tokens to workload principals, per issuer', async () => {
    const billing = await registry.verify(await a.clientCredentialsToken('billing-worker'));
    expect(billing).toMatchObject({ kind: 'workload', systemId: 'sys-billing', actor: { subject: 'billing-worker', roles: [], tenantScope: ['tenant-a'] } });
    const payments = await registry.verify(await b.clientCredentialsToken('payments-svc'));
    expect(payments).toMatchObject({ kind: 'workload', systemId: 'sys-payments', actor: { subject: 'payments-svc', roles: ['key-admin'], tenantScope: ['tenant-b'] } });
    // B identifies workloads by client_id; a client missing from its systems table is refused, not taken for a person.
    expect(await refusal(registry.verify(await b.clientCredentialsToken('rogue-svc')))).toBe('invalid-claims');
  });

  it('refuses an expired token, and one not valid yet, by the clock tolerance', async () => {
    const token = await a.signIn('alice');
    const { exp, iat } = part(token, 1) as { exp: number; iat: number };
    offsetMs = (exp + 4) * 1000 - Date.now();
    await expect(registry.verify(token)).resolves.toBeDefined();
    offsetMs = (exp + 6) * 1000 - Date.now();
    expect(await refusal(registry.verify(token))).toBe('expired');
    const fresh = await b.clientCredentialsToken('payments-svc');
    offsetMs = (iat - 6) * 1000 - Date.now();
    expect(await refusal(registry.verify(fresh))).toBe('not-yet-valid');
  });

  it('refuses a token issued for another resource (audience)', async () => {
    expect(await refusal(registry.verify(await a.signIn('alice', { resource: OTHER_API })))).toBe('wrong-audience');
    expect(await refusal(registry.verify(await b.clientCredentialsToken('payments-svc', { resource: OTHER_API })))).toBe('wrong-audience');
  });

  it("refuses an untrusted provider's token as unknown-issuer without fetching anything from it", async () => {
    expect(await refusal(registry.verify(await untrusted.signIn('mallory')))).toBe('unknown-issuer');
    expect(await untrusted.stats()).toMatchObject({ discovery: 0, jwks: 0 });
  });

  it('refuses forgeries built from real tokens', async () => {
    const real = await a.signIn('bob');
    const [header, payload, signature] = real.split('.');
    const claims = part(real, 1);
    const elevated = b64({ ...claims, groups: ['kms-admins'], tenant: 'tenant-a' });

    expect(await refusal(registry.verify(`${b64({ ...part(real, 0), alg: 'none' })}.${elevated}.`))).toBe('unsupported-algorithm');
    const published = (await a.publicJwks()).keys.find((k) => k.kid === part(real, 0).kid)!;
    const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: published.kid })}.${elevated}`;
    for (const secret of [JSON.stringify(published), published.x, Buffer.from(published.x, 'base64url')])
      expect(await refusal(registry.verify(`${hsInput}.${createHmac('sha256', secret).update(hsInput).digest('base64url')}`))).toBe('unsupported-algorithm');
    expect(await refusal(registry.verify(`${header}.${elevated}.${signature}`))).toBe('bad-signature');
    // Re-labelled as B's: B's keys do not know A's kid (and B accepts RS256 only).
    expect(await refusal(registry.verify(`${header}.${b64({ ...claims, iss: b.issuer })}.${signature}`))).toBe('unsupported-algorithm');
    const rs = await b.signIn('dave');
    const [rsHeader, , rsSignature] = rs.split('.');
    expect(await refusal(registry.verify(`${rsHeader}.${b64({ ...part(rs, 1), iss: a.issuer })}.${rsSignature}`))).toBe('unknown-key');
    expect(await refusal(registry.verify(`${header}.${payload}.${signature.slice(0, -4)}AAAA`))).toBe('bad-signature');
    expect(await refusal(registry.verify(`${header}.${payload}`))).toBe('malformed');
  });

  it('fetched no keys for any refused token (only the start-up loads)', async () => {
    expect(await a.stats()).toMatchObject({ discovery: 1, jwks: 1 });
    expect(await b.stats()).toMatchObject({ discovery: 0, jwks: 1 });
  });
});
