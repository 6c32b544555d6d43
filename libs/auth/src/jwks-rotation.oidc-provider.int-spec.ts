import { generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { OidcTestProvider } from '../../../test/support/oidc/oidc-provider';
import { TokenRefused, TokenRefusalReason } from './auth.errors';
import { IssuerRegistry } from './issuer-registry';
import { DEFAULT_JWKS_TUNING } from './jwks-source';

const API = 'urn:cmk:api';
const COOLDOWN_MS = DEFAULT_JWKS_TUNING.refreshCooldownMs;

async function refusal(promise: Promise<unknown>): Promise<TokenRefusalReason> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRefused) return error.code;
    throw error;
  }
  throw new Error('the token was accepted');
}
const strangerToken = async (issuer: string) =>
  new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: randomUUID() }).setIssuer(issuer).setAudience(API).setSubject('stranger').setExpirationTime('5m').sign((await generateKeyPair('ES256')).privateKey);
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { kid: string }).kid;

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Signing-key rotation, floods of unknown kids and JWKS outages against a real OpenID Provider (oidc-provider 9
 * in a child process), counting the JWKS requests the provider itself served. The registry's clock is moved
 * forward past the refresh cooldown where a test needs it; the provider's clock is the real one.
 */
describe('JWKS rotation and refresh limits against a real OpenID Provider (oidc-provider)', () => {
  let idp: OidcTestProvider;
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const registries: IssuerRegistry[] = [];
  const registry = (tuning = {}) => {
    const r = new IssuerRegistry([{ issuer: idp.issuer, audience: API, rolesClaim: 'groups', tenantClaim: 'tenant' }], { now, tuning: { backoffInitialMs: 100, ...tuning } });
    registries.push(r);
    return r;
  };
  const jwksFetches = async () => (await idp.stats()).jwks;

  beforeAll(async () => {
    idp = await OidcTestProvider.start({
      resources: { [API]: { scope: 'cmk', ttlSeconds: 900 } },
      defaultResource: API,
      users: { alice: { claims: { groups: ['key-admin'], tenant: 't1' } }, bob: { claims: { groups: ['auditor'] } } },
      workloads: { 'svc-1': { claims: { tenant: 't1' } }, 'svc-2': { claims: { tenant: 't2' } } },
    });
  });
  afterAll(async () => {
    for (const r of registries) r.close();
    await idp?.stop();
  });

  it('picks up a rotated key with exactly one JWKS fetch, keeps old-kid tokens while published, drops them once retired', async () => {
    const verifier = registry();
    await verifier.start();
    const base = await jwksFetches();
    const k1Token = await idp.signIn('alice');
    const k1Unseen = await idp.clientCredentialsToken('svc-1');
    expect((await verifier.verify(k1Token)).actor.subject).toBe('alice');

    const { signingKid: k2 } = await idp.rotateKeys();
    const k2Tokens = await Promise.all([idp.signIn('bob'), idp.clientCredentialsToken('svc-1'), idp.clientCredentialsToken('svc-2'), idp.signIn('alice')]);
    expect(k2Tokens.map(kidOf)).toEqual([k2, k2, k2, k2]);
    // The old key is still published: its tokens verify from the cached key set, nothing is fetched.
    expect((await verifier.verify(k1Unseen)).actor.subject).toBe('svc-1');
    expect(await jwksFetches()).toBe(base);

    offsetMs += COOLDOWN_MS;
    const principals = await Promise.all(k2Tokens.map((t) => verifier.verify(t)));
    expect(principals.map((p) => p.actor.subject)).toEqual(['bob', 'svc-1', 'svc-2', 'alice']);
    expect(await jwksFetches()).toBe(base + 1);
    expect((await verifier.verify(k1Token)).actor.subject).toBe('alice');

    const { signingKid: k3, publishedKids } = await idp.rotateKeys({ retireOld: true });
    expect(publishedKids).toEqual([k3]);
    const k3Token = await idp.signIn('alice');
    offsetMs += COOLDOWN_MS;
    await verifier.verify(k3Token);
    expect(await jwksFetches()).toBe(base + 2);
    // Retired keys: a verdict cached for a k1 token is not served any more, and k2 tokens are refused too.
    expect(await refusal(verifier.verify(k1Token))).toBe('unknown-key');
    expect(await refusal(verifier.verify(k2Tokens[0]))).toBe('unknown-key');
    expect(await jwksFetches()).toBe(base + 2);
  });

  it('answers a flood of 200 tokens with random kids with at most one JWKS fetch per cooldown', async () => {
    const verifier = registry();
    await verifier.start();
    const genuine = await idp.signIn('alice');
    const { privateKey } = await generateKeyPair('ES256');
    const forged = () =>
      new SignJWT({ groups: ['platform-operator'] }).setProtectedHeader({ alg: 'ES256', kid: randomUUID() }).setIssuer(idp.issuer).setAudience(API).setSubject('mallory').setIssuedAt().setExpirationTime('5m').sign(privateKey);
    const base = await jwksFetches();
    offsetMs += COOLDOWN_MS;

    const concurrent = await Promise.all(Array.from({ length: 200 }, async () => refusal(verifier.verify(await forged()))));
    expect(new Set(concurrent)).toEqual(new Set(['unknown-key']));
    expect(await jwksFetches()).toBe(base + 1);
    for (let i = 0; i < 200; i++) expect(await refusal(verifier.verify(await forged()))).toBe('unknown-key');
    expect(await jwksFetches()).toBe(base + 1);
    // Genuine tokens keep verifying throughout.
    expect((await verifier.verify(genuine)).actor.subject).toBe('alice');

    offsetMs += COOLDOWN_MS;
    await Promise.all(Array.from({ length: 200 }, async () => refusal(verifier.verify(await forged()))));
    expect(await jwksFetches()).toBe(base + 2);
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down, and recovers a rotation after it is back', async () => {
    const verifier = registry();
    await verifier.start();
    const cachedKeyToken = await idp.signIn('bob');
    await idp.setOutage(true);
    try {
      const base = await jwksFetches();
      offsetMs += COOLDOWN_MS;
      expect(await refusal(verifier.verify(await strangerToken(idp.issuer)))).toBe('unknown-key');
      expect(await jwksFetches()).toBe(base + 1);
      expect((await verifier.verify(cachedKeyToken)).actor.subject).toBe('bob');

      const { signingKid } = await idp.rotateKeys();
      const rotated = await idp.clientCredentialsToken('svc-2');
      expect(kidOf(rotated)).toBe(signingKid);
      expect(await refusal(verifier.verify(rotated))).toBe('unknown-key');
      await idp.setOutage(false);
      // The back-off retry (from 100 ms here) runs in the background: requests within the cooldown never fetch, so
      // only the retry can bring the new key in.
      await eventually(async () => (await verifier.verify(rotated).then(() => true, () => false)), 'the rotated key');
      expect((await verifier.verify(rotated)).actor.subject).toBe('svc-2');
    } finally {
      await idp.setOutage(false);
    }
  });

  it('reports an issuer whose keys cannot be loaded at start as unavailable, and loads them once the IdP is back', async () => {
    await idp.setOutage(true);
    const verifier = registry();
    try {
      expect(await verifier.start()).toEqual({ unavailable: [idp.issuer] });
      const token = await idp.signIn('alice');
      expect(await refusal(verifier.verify(token))).toBe('issuer-unavailable');
    } finally {
      await idp.setOutage(false);
    }
    await eventually(async () => (verifier.keyStats(idp.issuer)?.jwksFetches ?? 0) >= 1, 'the discovery retry');
    expect((await verifier.verify(await idp.signIn('alice'))).actor).toMatchObject({ subject: 'alice', roles: ['key-admin'], tenantScope: ['t1'] });
    expect(verifier.keyStats(idp.issuer)!.discoveryFetches).toBeGreaterThanOrEqual(2);
  });

  it('keeps accepting tokens signed with cached keys after the IdP process is gone', async () => {
    const verifier = registry();
    await verifier.start();
    const tokens = [await idp.signIn('alice'), await idp.clientCredentialsToken('svc-1')];
    await idp.stop();
    offsetMs += COOLDOWN_MS;
    expect((await Promise.all(tokens.map((t) => verifier.verify(t)))).map((p) => p.actor.subject)).toEqual(['alice', 'svc-1']);
    expect(await refusal(verifier.verify(await strangerToken(idp.issuer)))).toBe('unknown-key');
    expect(verifier.keyStats(idp.issuer)!.failedLoads).toBeGreaterThanOrEqual(1);
  });
});
