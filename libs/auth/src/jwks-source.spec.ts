import { errors, exportJWK, generateKeyPair, JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { TokenRefused } from './auth.errors';
import type { FetchFn } from './jwks-fetch';
import { DEFAULT_JWKS_TUNING, JwksSource } from './jwks-source';

const ISSUER = 'https://idp.example.com';
const JWKS_URL = 'https://idp.example.com/keys';

/** An in-memory stand-in for an IdP's HTTP endpoints, counting requests; these tests are about the cache logic. */
class FakeIdp {
  keys: JWK[] = [];
  status = 200;
  discovery: Record<string, unknown> = { issuer: ISSUER, jwks_uri: JWKS_URL };
  requests: string[] = [];
  lastInit?: Parameters<FetchFn>[1];
  private gate?: Promise<void>;
  private release?: () => void;

  readonly fetch: FetchFn = async (url, init) => {
    this.requests.push(url);
    this.lastInit = init;
    await this.gate;
    if (this.status !== 200) return new Response('down', { status: this.status });
    if (url.endsWith('/.well-known/openid-configuration')) return Response.json(this.discovery);
    if (url === JWKS_URL) return Response.json({ keys: this.keys });
    return new Response('not found', { status: 404 });
  };

  hold(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  unhold(): void {
    this.release?.();
    this.gate = undefined;
  }
  count(url = JWKS_URL): number {
    return this.requests.filter((u) => u === url).length;
  }
}

async function signingKey(alg: 'ES256' | 'RS256' = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' };
  return { jwk, privateJwk: { ...(await exportJWK(privateKey)), kid: randomUUID() } };
}

const header = (kid: string) => ({ alg: 'ES256', kid });
const flattened = { payload: '', signature: '' };

describe('JwksSource (against an in-memory IdP double)', () => {
  let idp: FakeIdp;
  let clock: number;
  let source: JwksSource;
  const make = (jwksUrl?: string, tuning = {}) =>
    new JwksSource(ISSUER, { kind: 'remote', jwksUrl }, { fetch: idp.fetch, now: () => clock, tuning: { ...DEFAULT_JWKS_TUNING, backoffInitialMs: 60_000, ...tuning } });

  beforeEach(() => {
    idp = new FakeIdp();
    clock = 1_000_000;
  });
  afterEach(() => source?.close());

  it('finds the JWKS through discovery, once, and refuses redirects', async () => {
    const k = await signingKey();
    idp.keys = [k.jwk];
    source = make();
    expect(await source.start()).toBe(true);
    expect(idp.requests).toEqual([`${ISSUER}/.well-known/openid-configuration`, JWKS_URL]);
    expect(idp.lastInit?.redirect).toBe('error');
    await expect(source.keyFor(header(k.jwk.kid!), flattened)).resolves.toBeDefined();
    expect(idp.requests).toHaveLength(2);
  });

  it('refuses a discovery document that names another issuer, or an http jwks_uri', async () => {
    idp.keys = [(await signingKey()).jwk];
    idp.discovery = { issuer: `${ISSUER}/`, jwks_uri: JWKS_URL };
    source = make();
    expect(await source.start()).toBe(false);
    source.close();
    idp.discovery = { issuer: ISSUER, jwks_uri: 'http://keys.example.com/jwks' };
    source = make();
    expect(await source.start()).toBe(false);
    expect(idp.count()).toBe(0);
  });

  it('shares one fetch among concurrent callers with an unknown kid (single flight, even without a cooldown)', async () => {
    const k1 = await signingKey();
    const k2 = await signingKey();
    idp.keys = [k1.jwk];
    source = make(JWKS_URL, { refreshCooldownMs: 0 });
    await source.start();
    idp.keys = [k2.jwk, k1.jwk];
    idp.hold();
    const lookups = Array.from({ length: 50 }, (_, i) => source.keyFor(header(i % 2 ? k2.jwk.kid! : randomUUID()), flattened).then(() => 'found', () => 'unknown'));
    await new Promise((r) => setTimeout(r, 20));
    expect(idp.count()).toBe(2);
    idp.unhold();
    expect((await Promise.all(lookups)).filter((r) => r === 'found')).toHaveLength(25);
    expect(idp.count()).toBe(2);
  });

  it('fetches for unknown kids at most once per cooldown', async () => {
    const k1 = await signingKey();
    idp.keys = [k1.jwk];
    source = make(JWKS_URL);
    await source.start();
    for (let i = 0; i < 100; i++) await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.count()).toBe(1);
    clock += DEFAULT_JWKS_TUNING.refreshCooldownMs;
    for (let i = 0; i < 100; i++) await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.count()).toBe(2);
  });

  it('keeps the cached keys when the endpoint is down, and tries again only after the cooldown', async () => {
    const k1 = await signingKey();
    idp.keys = [k1.jwk];
    source = make(JWKS_URL, { backoffInitialMs: 1_000 });
    await source.start();
    idp.status = 503;
    clock += DEFAULT_JWKS_TUNING.refreshCooldownMs;
    await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(source.stats).toMatchObject({ jwksFetches: 2, failedLoads: 1 });
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
    clock += DEFAULT_JWKS_TUNING.refreshCooldownMs - 1;
    await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.count()).toBe(2);
    clock += 1;
    await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.count()).toBe(3);
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
  });

  it('backs off exponentially, up to the maximum, while no keys could be loaded', async () => {
    idp.status = 503;
    source = make(JWKS_URL, { backoffInitialMs: 1_000, backoffMaxMs: 4_000 });
    expect(await source.start()).toBe(false);
    const attempt = () => expect(source.keyFor(header(randomUUID()), flattened)).rejects.toEqual(new TokenRefused('issuer-unavailable'));
    for (const wait of [1_000, 2_000, 4_000, 4_000]) {
      const before = idp.count();
      clock += wait - 1;
      await attempt();
      expect(idp.count()).toBe(before);
      clock += 1;
      await attempt();
      expect(idp.count()).toBe(before + 1);
    }
  });

  it('retries a failed start in the background and is unavailable until then', async () => {
    const k1 = await signingKey();
    idp.keys = [k1.jwk];
    idp.status = 503;
    source = make(undefined, { backoffInitialMs: 20 });
    expect(await source.start()).toBe(false);
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).rejects.toEqual(new TokenRefused('issuer-unavailable'));
    expect(idp.requests).toHaveLength(1);
    idp.status = 200;
    for (let i = 0; i < 100 && source.stats.jwksFetches === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
    expect(source.stats).toMatchObject({ discoveryFetches: 2, jwksFetches: 1, failedLoads: 1 });
  });

  it('logs a failed load with the issuer and the endpoint, without credentials, query or key material', async () => {
    const warnings: unknown[] = [];
    idp.status = 500;
    source = new JwksSource(
      ISSUER,
      { kind: 'remote', jwksUrl: 'https://user:hunter2@idp.example.com/keys?access_token=abc123' },
      { fetch: idp.fetch, now: () => clock, tuning: { ...DEFAULT_JWKS_TUNING, backoffInitialMs: 60_000 }, logger: { warn: (fields, message) => warnings.push({ fields, message }) } },
    );
    expect(await source.start()).toBe(false);
    expect(warnings).toEqual([
      { message: 'could not load the issuer signing keys', fields: { issuer: ISSUER, failures: 1, retryInMs: 60_000, keysCached: false, error: 'https://idp.example.com/keys: HTTP 500' } },
    ]);
    expect(JSON.stringify(warnings)).not.toMatch(/hunter2|abc123/);
  });

  it('loads lazily on first use when never started', async () => {
    const k1 = await signingKey();
    idp.keys = [k1.jwk];
    source = make(JWKS_URL);
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
    expect(idp.count()).toBe(1);
  });

  it('drops symmetric keys, encryption keys and entries with private members; an empty result is a failure', async () => {
    const k1 = await signingKey();
    const leaked = await signingKey();
    idp.keys = [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, { ...k1.jwk, kid: 'enc', use: 'enc' }, { ...leaked.privateJwk, kid: 'leaked' }];
    source = make(JWKS_URL);
    expect(await source.start()).toBe(false);
    source.close();
    idp.keys.push(k1.jwk);
    source = make(JWKS_URL);
    expect(await source.start()).toBe(true);
    for (const kid of ['hmac', 'enc', 'leaked']) expect(source.hasKey(kid)).toBe(false);
    expect(source.hasKey(k1.jwk.kid!)).toBe(true);
  });

  it('refreshes keys older than the maximum age in the background, so retired keys disappear', async () => {
    const k1 = await signingKey();
    const k2 = await signingKey();
    idp.keys = [k1.jwk];
    source = make(JWKS_URL);
    await source.start();
    const generation = source.generation;
    idp.keys = [k2.jwk];
    clock += DEFAULT_JWKS_TUNING.maxKeyAgeMs + 1;
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
    for (let i = 0; i < 100 && source.generation === generation; i++) await new Promise((r) => setTimeout(r, 5));
    expect(source.hasKey(k1.jwk.kid!)).toBe(false);
    expect(source.hasKey(k2.jwk.kid!)).toBe(true);
    expect(idp.count()).toBe(2);
  });

  it('never fetches for a fixed key set', async () => {
    const k1 = await signingKey();
    source = new JwksSource(ISSUER, { kind: 'fixed', jwks: { keys: [k1.jwk] } }, { fetch: idp.fetch, now: () => clock, tuning: DEFAULT_JWKS_TUNING });
    await expect(source.keyFor(header(k1.jwk.kid!), flattened)).resolves.toBeDefined();
    await expect(source.keyFor(header(randomUUID()), flattened)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.requests).toHaveLength(0);
  });
});
