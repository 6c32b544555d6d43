import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, JWTPayload } from 'jose';
import { createHash } from 'node:crypto';
import { TokenRefused } from './auth.errors';
import { Principal, toPrincipal } from './claims-mapping';
import type { FetchFn } from './jwks-fetch';
import { AuthLogger, DEFAULT_JWKS_TUNING, JwksSource, JwksSourceStats, JwksTuning } from './jwks-source';
import { ASYMMETRIC_ALGORITHMS, resolveIssuer, ResolvedIssuer, TrustedIssuerConfig, WorkloadMapping } from './trusted-issuer';

export interface IssuerRegistryOptions {
  /** Default: the global fetch. */
  fetch?: FetchFn;
  /** Epoch milliseconds; default Date.now. Used for token times and for the key refresh gates alike. */
  now?: () => number;
  tuning?: Partial<JwksTuning>;
  logger?: AuthLogger;
}

interface TrustedIssuer {
  config: ResolvedIssuer;
  keys: JwksSource;
}

interface CachedVerdict {
  principal: Principal;
  source: JwksSource;
  kid?: string;
  generation: number;
}

/** Real bearer tokens are a few KiB; parsing megabytes of base64 per request is a cheap denial of service. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const CACHE_SIZE = 10_000;

/**
 * Verifies bearer JWTs from several trusted issuers. The token's `iss` picks the issuer (exact match, before any
 * key is fetched); then signature with that issuer's keys, audience, exp/nbf/iat with its clock tolerance, and its
 * claims mapping. Refusals are TokenRefused with a stable code; their texts never contain token content.
 */
export class IssuerRegistry {
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly now: () => number;
  /**
   * Verified tokens by SHA-256, until `exp`: the signature check is the largest CPU cost of a request. A verdict
   * is reused only while its key is still published (a retired key's tokens stop at the next key refresh).
   */
  private readonly verified = new Map<string, CachedVerdict>();

  constructor(configs: TrustedIssuerConfig[], options: IssuerRegistryOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    const deps = {
      fetch: options.fetch ?? ((url, init) => fetch(url, init)),
      now: this.now,
      tuning: { ...DEFAULT_JWKS_TUNING, ...options.tuning },
      logger: options.logger,
    } satisfies ConstructorParameters<typeof JwksSource>[2];
    for (const raw of configs) {
      if (this.issuers.has(raw.issuer)) throw new Error(`issuer ${raw.issuer} is configured twice`);
      if (raw.jwks && raw.jwksUrl) throw new Error(`issuer ${raw.issuer}: give jwks or jwksUrl, not both`);
      const origin = raw.jwks ? { kind: 'fixed' as const, jwks: raw.jwks } : { kind: 'remote' as const, jwksUrl: raw.jwksUrl };
      this.issuers.set(raw.issuer, { config: resolveIssuer(raw), keys: new JwksSource(raw.issuer, origin, deps) });
    }
  }

  /** Loads every issuer's keys. Never rejects; names the issuers still unavailable (they keep retrying). */
  async start(): Promise<{ unavailable: string[] }> {
    const results = await Promise.all([...this.issuers.values()].map(async (i) => ({ issuer: i.config.issuer, ok: await i.keys.start() })));
    return { unavailable: results.filter((r) => !r.ok).map((r) => r.issuer) };
  }

  get issuerNames(): string[] {
    return [...this.issuers.keys()];
  }

  /**
   * The issuer's workload mapping, if any. Lets a caller tell "this issuer maps no workloads" (it may apply its own
   * default) from "this token lacks the issuer's system claim" (a person's token, never to be re-read otherwise).
   */
  workloadMapping(issuer: string): WorkloadMapping | undefined {
    const mapping = this.issuers.get(issuer)?.config.workload;
    return mapping ? { ...mapping, ...(mapping.systems ? { systems: { ...mapping.systems } } : {}) } : undefined;
  }

  keyStats(issuer: string): JwksSourceStats | undefined {
    return this.issuers.get(issuer)?.keys.stats;
  }

  close(): void {
    for (const i of this.issuers.values()) i.keys.close();
    this.verified.clear();
  }

  async verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new TokenRefused('malformed');
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const hit = this.verified.get(cacheKey);
    if (hit && hit.principal.expiresAt > this.now() && (hit.kid !== undefined ? hit.source.hasKey(hit.kid) : hit.source.generation === hit.generation)) return hit.principal;
    if (hit) this.verified.delete(cacheKey);

    const { alg, kid, payload } = parseUnverified(token);
    // Refused before the issuer lookup so `none` and HMAC never reach a key resolver.
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) throw new TokenRefused('unsupported-algorithm');
    const trusted = typeof payload.iss === 'string' ? this.issuers.get(payload.iss) : undefined;
    if (!trusted) throw new TokenRefused('unknown-issuer');
    const { config, keys } = trusted;
    if (!(config.algorithms as string[]).includes(alg)) throw new TokenRefused('unsupported-algorithm');

    const generation = keys.generation;
    const now = this.now();
    let verified: JWTPayload;
    try {
      ({ payload: verified } = await jwtVerify(token, keys.keyFor, {
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: config.clockToleranceSeconds,
        algorithms: config.algorithms,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw refusalFor(error);
    }
    // jose checks `iat` only together with maxTokenAge; a token issued in the future is not valid yet either.
    if (typeof verified.iat === 'number' && verified.iat > now / 1000 + config.clockToleranceSeconds) throw new TokenRefused('not-yet-valid');
    if (typeof verified.sub !== 'string' || verified.sub.length === 0) throw new TokenRefused('invalid-claims', 'token has no subject');
    const principal = toPrincipal(verified as JWTPayload & { sub: string; exp: number; iss: string }, config);
    if (principal.expiresAt > now) {
      if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(cacheKey, { principal, source: keys, kid, generation });
    }
    return principal;
  }
}

function parseUnverified(token: string): { alg: string; kid?: string; payload: JWTPayload } {
  // Five parts would be a JWE: bearer tokens here are signed, never encrypted.
  if (token.split('.').length !== 3) throw new TokenRefused('malformed');
  try {
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    if (typeof header.alg !== 'string') throw new TokenRefused('malformed');
    return { alg: header.alg, kid: typeof header.kid === 'string' ? header.kid : undefined, payload };
  } catch (error) {
    if (error instanceof TokenRefused) throw error;
    throw new TokenRefused('malformed');
  }
}

function refusalFor(error: unknown): TokenRefused {
  if (error instanceof TokenRefused) return error;
  if (error instanceof errors.JWTExpired) return new TokenRefused('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new TokenRefused('not-yet-valid');
    if (error.claim === 'aud') return new TokenRefused('wrong-audience');
    if (error.claim === 'iss') return new TokenRefused('unknown-issuer');
    if (error.claim === 'exp' && error.reason === 'missing') return new TokenRefused('invalid-claims', 'token must expire (exp claim missing)');
    if (error.claim === 'sub' && error.reason === 'missing') return new TokenRefused('invalid-claims', 'token has no subject');
    return new TokenRefused('invalid-claims', `token claim "${error.claim}" is invalid`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRefused('bad-signature');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return new TokenRefused('unsupported-algorithm');
  if (error instanceof errors.JWKSNoMatchingKey) return new TokenRefused('unknown-key');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new TokenRefused('unknown-key', 'token names no key id (kid) and its issuer publishes several keys');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return new TokenRefused('malformed');
  return new TokenRefused('malformed', 'token could not be verified');
}
