import { exportJWK, generateKeyPair, JWK, JWTPayload, KeyLike, SignJWT } from 'jose';
import { createHmac, randomUUID } from 'node:crypto';
import { TokenRefused, TokenRefusalReason } from './auth.errors';
import { IssuerRegistry } from './issuer-registry';
import type { FetchFn } from './jwks-fetch';

const A = 'https://a.idp.example.com';
const B = 'https://b.idp.example.com/realms/cmk';
const NOW = 1_900_000_000;

interface TestKey {
  privateKey: KeyLike;
  jwk: JWK;
}
async function key(alg: 'ES256' | 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' } };
}
function sign(k: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'alice', iat: NOW - 10, exp: NOW + 600, ...claims }).setProtectedHeader({ alg: k.jwk.alg!, kid: k.jwk.kid, ...header }).sign(k.privateKey);
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(promise: Promise<unknown>): Promise<TokenRefused> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRefused) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('IssuerRegistry (local key sets)', () => {
  let ka: TestKey;
  let kb: TestKey;
  let fetches: string[];
  let registry: IssuerRegistry;
  let now: number;

  beforeAll(async () => {
    ka = await key('ES256');
    kb = await key('RS256');
  });
  beforeEach(() => {
    fetches = [];
    now = NOW * 1000;
    const fetch: FetchFn = async (url) => {
      fetches.push(url);
      return new Response('not reachable in this test', { status: 503 });
    };
    registry = new IssuerRegistry(
      [
        { issuer: A, audience: 'openkcm-cmk', jwks: { keys: [ka.jwk] }, rolesClaim: 'groups', tenantClaim: 'tenant', roleMapping: { 'kms-admins': 'key-admin' }, clockToleranceSeconds: 5, workload: { systemClaim: 'cmk_system' } },
        { issuer: B, audience: ['openkcm-cmk', 'openkcm-cmk-worker'], jwks: { keys: [kb.jwk] }, algorithms: ['RS256'], rolesClaim: 'realm_access.roles', tenantClaim: 'org.tenant_id', roleMapping: { Ops: 'platform-operator' }, passThroughCmkRoles: false, clockToleranceSeconds: 0 },
        { issuer: 'https://remote.idp.example.com', audience: 'openkcm-cmk' },
      ],
      { fetch, now: () => now },
    );
  });
  afterEach(() => registry.close());

  it('applies each issuer its own claims mapping', async () => {
    const fromA = await registry.verify(await sign(ka, { iss: A, aud: 'openkcm-cmk', groups: ['kms-admins', 'auditor'], tenant: 't1' }));
    expect(fromA).toMatchObject({ kind: 'person', issuer: A, actor: { subject: 'alice', roles: ['key-admin', 'auditor'], tenantScope: ['t1'] } });
    const fromB = await registry.verify(await sign(kb, { iss: B, aud: 'openkcm-cmk-worker', realm_access: { roles: ['Ops', 'auditor'] } }));
    expect(fromB).toMatchObject({ kind: 'person', issuer: B, actor: { roles: ['platform-operator'] } });
    expect(fromB.actor.tenantScope).toBeUndefined();
    const workload = await registry.verify(await sign(ka, { iss: A, aud: 'openkcm-cmk', sub: 'svc', cmk_system: 'sys-7', tenant: 't1' }));
    expect(workload).toMatchObject({ kind: 'workload', systemId: 'sys-7', actor: { subject: 'svc', tenantScope: ['t1'] } });
  });

  const cases: Array<[string, () => Promise<string>, TokenRefusalReason]> = [
    ['an unknown issuer', () => sign(ka, { iss: 'https://evil.example.com', aud: 'openkcm-cmk' }), 'unknown-issuer'],
    ['an issuer differing by a trailing slash', () => sign(ka, { iss: `${A}/`, aud: 'openkcm-cmk' }), 'unknown-issuer'],
    ['no issuer', () => sign(ka, { aud: 'openkcm-cmk' }), 'unknown-issuer'],
    ['alg none', async () => `${b64({ alg: 'none' })}.${b64({ iss: A, aud: 'openkcm-cmk', sub: 'x', exp: NOW + 60 })}.`, 'unsupported-algorithm'],
    [
      'HS256 keyed with the public key',
      async () => {
        const input = `${b64({ alg: 'HS256', kid: ka.jwk.kid })}.${b64({ iss: A, aud: 'openkcm-cmk', sub: 'x', exp: NOW + 60, groups: ['platform-operator'] })}`;
        return `${input}.${createHmac('sha256', JSON.stringify(ka.jwk)).update(input).digest('base64url')}`;
      },
      'unsupported-algorithm',
    ],
    ['an algorithm the issuer does not allow', async () => sign(await key('ES256'), { iss: B, aud: 'openkcm-cmk' }), 'unsupported-algorithm'],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await sign(ka, { iss: A, aud: 'openkcm-cmk', groups: ['auditor'] })).split('.');
        return `${h}.${b64({ sub: 'alice', iat: NOW - 10, exp: NOW + 600, iss: A, aud: 'openkcm-cmk', groups: ['platform-operator'] })}.${s}`;
      },
      'bad-signature',
    ],
    ['a foreign key under a known kid', async () => sign({ ...(await key('ES256')), jwk: ka.jwk }, { iss: A, aud: 'openkcm-cmk' }), 'bad-signature'],
    ["another trusted issuer's key", () => sign(kb, { iss: A, aud: 'openkcm-cmk' }, { alg: 'RS256' }), 'unknown-key'],
    ['an unknown kid', async () => sign(await key('ES256'), { iss: A, aud: 'openkcm-cmk' }), 'unknown-key'],
    ['an expired token', () => sign(ka, { iss: A, aud: 'openkcm-cmk', exp: NOW - 6 }), 'expired'],
    ['nbf in the future', () => sign(ka, { iss: A, aud: 'openkcm-cmk', nbf: NOW + 6 }), 'not-yet-valid'],
    ['iat in the future', () => sign(ka, { iss: A, aud: 'openkcm-cmk', iat: NOW + 6 }), 'not-yet-valid'],
    ['another audience', () => sign(ka, { iss: A, aud: 'openkcm-cmk-worker' }), 'wrong-audience'],
    ['no audience', () => sign(ka, { iss: A }), 'wrong-audience'],
    ['no expiry', () => sign(ka, { iss: A, aud: 'openkcm-cmk', exp: undefined }), 'invalid-claims'],
    ['no subject', () => sign(ka, { iss: A, aud: 'openkcm-cmk', sub: undefined }), 'invalid-claims'],
    ['garbage', async () => 'not.a.jwt', 'malformed'],
    ['a JWE-shaped token', async () => 'a.b.c.d.e', 'malformed'],
    ['an oversized token', async () => `${b64({ alg: 'ES256' })}.${'A'.repeat(20_000)}.sig`, 'malformed'],
  ];

  it.each(cases)('refuses %s with a stable reason, fetching nothing and quoting nothing of the token', async (_name, make, reason) => {
    const token = await make();
    const error = await refusal(registry.verify(token));
    expect(error.code).toBe(reason);
    for (const part of token.split('.').filter((p) => p.length > 8)) expect(error.message).not.toContain(part);
    expect(fetches).toEqual([]);
  });

  it('keeps the refusal texts existing callers match on', async () => {
    expect((await refusal(registry.verify(await sign(ka, { iss: A, aud: 'openkcm-cmk', exp: undefined })))).message).toContain('must expire');
    expect((await refusal(registry.verify(await sign(ka, { iss: A, aud: 'openkcm-cmk', exp: NOW - 60 })))).message).toBe('token expired');
    expect((await refusal(registry.verify(await sign(ka, { iss: A, aud: 'x' })))).message).toContain('token claim "aud" is invalid');
  });

  it('honours the clock tolerance per issuer', async () => {
    const expiredBy3 = { aud: 'openkcm-cmk', exp: NOW - 3 };
    await expect(registry.verify(await sign(ka, { ...expiredBy3, iss: A }))).resolves.toBeDefined();
    expect((await refusal(registry.verify(await sign(kb, { ...expiredBy3, iss: B })))).code).toBe('expired');
  });

  it('serves a repeated token from its cache until it expires', async () => {
    const token = await sign(ka, { iss: A, aud: 'openkcm-cmk', exp: NOW + 60 });
    const first = await registry.verify(token);
    expect(await registry.verify(token)).toBe(first);
    now += 60_000;
    // Past `exp` the cache no longer answers; the clock tolerance (5 s for this issuer) still applies on re-check.
    await expect(registry.verify(token)).resolves.not.toBe(first);
    now += 6_000;
    expect((await refusal(registry.verify(token))).code).toBe('expired');
  });
});

describe('IssuerRegistry cached verdicts', () => {
  it('stops accepting a cached token once its key is no longer published', async () => {
    const k1 = await key('ES256');
    const k2 = await key('ES256');
    let published = [k1.jwk];
    let now = NOW * 1000;
    const fetch: FetchFn = async () => Response.json({ keys: published });
    const registry = new IssuerRegistry([{ issuer: A, audience: 'cmk', jwksUrl: `${A}/jwks` }], { fetch, now: () => now });
    try {
      const old = await sign(k1, { iss: A, aud: 'cmk' });
      await registry.verify(old);
      published = [k2.jwk];
      now += 31_000;
      await registry.verify(await sign(k2, { iss: A, aud: 'cmk' }));
      expect((await refusal(registry.verify(old))).code).toBe('unknown-key');
      expect(registry.keyStats(A)).toMatchObject({ jwksFetches: 2, discoveryFetches: 0 });
    } finally {
      registry.close();
    }
  });
});
