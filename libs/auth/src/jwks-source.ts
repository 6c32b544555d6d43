import { createLocalJWKSet, errors, FlattenedJWSInput, JSONWebKeySet, JWTHeaderParameters, KeyLike } from 'jose';
import { TokenRefused } from './auth.errors';
import { FetchFn, fetchJson, jwksUriFromDiscovery, JwksFetchError, signingKeys } from './jwks-fetch';
import { discoveryUrl } from './trusted-issuer';

/** The subset of a pino logger the key sources use. */
export interface AuthLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface JwksTuning {
  /** Least time between two fetches caused by unknown `kid`s or key age: random kids cannot flood the IdP. */
  refreshCooldownMs: number;
  /** Keys older than this are re-fetched in the background (retired keys stop verifying). */
  maxKeyAgeMs: number;
  fetchTimeoutMs: number;
  /** After a failed load, retries wait backoffInitialMs, doubling up to backoffMaxMs, until one succeeds. */
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_JWKS_TUNING: JwksTuning = {
  refreshCooldownMs: 30_000,
  maxKeyAgeMs: 10 * 60_000,
  fetchTimeoutMs: 5_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
};

export interface JwksSourceDeps {
  fetch: FetchFn;
  now: () => number;
  tuning: JwksTuning;
  logger?: AuthLogger;
}

export type KeyOrigin = { kind: 'fixed'; jwks: JSONWebKeySet } | { kind: 'remote'; jwksUrl?: string };

type Trigger = 'start' | 'first-use' | 'unknown-key' | 'max-age' | 'retry';

interface LoadedKeys {
  resolve: ReturnType<typeof createLocalJWKSet>;
  kids: Set<string>;
  loadedAt: number;
}

export interface JwksSourceStats {
  jwksFetches: number;
  discoveryFetches: number;
  failedLoads: number;
}

/**
 * One issuer's signing keys. Guarantees: at most one fetch in flight (concurrent callers share it); an unknown
 * `kid` causes at most one fetch per cooldown; a failed fetch never drops keys already loaded, and is retried
 * in the background with exponential back-off; an answer without usable keys counts as a failure.
 */
export class JwksSource {
  private loaded?: LoadedKeys;
  private keyGeneration = 0;
  private inFlight?: Promise<void>;
  private lastAttemptAt = -Infinity;
  private failures = 0;
  private retryAt = -Infinity;
  private retryTimer?: NodeJS.Timeout;
  private discoveredJwksUri?: string;
  private closed = false;
  private readonly counters: JwksSourceStats = { jwksFetches: 0, discoveryFetches: 0, failedLoads: 0 };

  constructor(
    readonly issuer: string,
    private readonly origin: KeyOrigin,
    private readonly deps: JwksSourceDeps,
  ) {
    if (origin.kind === 'fixed') this.install(origin.jwks);
  }

  /** Loads the keys if none are loaded. Never rejects: resolves false and keeps retrying in the background. */
  async start(): Promise<boolean> {
    if (!this.loaded) await this.refresh('start');
    return this.loaded !== undefined;
  }

  get stats(): JwksSourceStats {
    return { ...this.counters };
  }

  /** Changes whenever a new key set is installed, so verdicts cached against an older set can be dropped. */
  get generation(): number {
    return this.keyGeneration;
  }

  hasKey(kid: string): boolean {
    return this.loaded?.kids.has(kid) ?? false;
  }

  /** For jwtVerify. Throws TokenRefused('issuer-unavailable') or jose's JWKSNoMatchingKey. */
  readonly keyFor = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (!this.loaded) await this.refresh('first-use');
    if (!this.loaded) throw new TokenRefused('issuer-unavailable');
    if (this.deps.now() - this.loaded.loadedAt > this.deps.tuning.maxKeyAgeMs) void this.refresh('max-age');
    try {
      return await this.loaded.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    await this.refresh('unknown-key');
    return this.loaded.resolve(header, token);
  };

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  private refresh(trigger: Trigger): Promise<void> {
    if (this.origin.kind === 'fixed' || this.closed) return Promise.resolve();
    if (this.inFlight) return this.inFlight;
    const now = this.deps.now();
    // The retry timer is the back-off itself; everything else waits for it after a failure.
    if (trigger !== 'retry' && now < this.retryAt) return Promise.resolve();
    if ((trigger === 'unknown-key' || trigger === 'max-age') && now - this.lastAttemptAt < this.deps.tuning.refreshCooldownMs) return Promise.resolve();
    this.inFlight = this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    this.lastAttemptAt = this.deps.now();
    try {
      const url = await this.jwksUri();
      this.counters.jwksFetches++;
      const jwks = signingKeys(await fetchJson(this.deps.fetch, url, this.deps.tuning.fetchTimeoutMs), url);
      if (jwks.keys.length === 0) throw new JwksFetchError('the key set has no usable signing keys');
      this.install(jwks);
      this.failures = 0;
      this.retryAt = -Infinity;
      clearTimeout(this.retryTimer);
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.failures++;
    this.counters.failedLoads++;
    // The jwks_uri may have moved; discovery is asked again on the next attempt.
    this.discoveredJwksUri = undefined;
    const { backoffInitialMs, backoffMaxMs } = this.deps.tuning;
    const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(this.failures - 1, 30));
    this.retryAt = this.deps.now() + delay;
    clearTimeout(this.retryTimer);
    if (!this.closed) {
      this.retryTimer = setTimeout(() => void this.refresh('retry'), delay);
      this.retryTimer.unref();
    }
    this.deps.logger?.warn(
      { issuer: this.issuer, failures: this.failures, retryInMs: delay, keysCached: this.loaded !== undefined, error: error instanceof JwksFetchError ? error.message : 'unexpected error' },
      'could not load the issuer signing keys',
    );
  }

  private async jwksUri(): Promise<string> {
    if (this.origin.kind === 'remote' && this.origin.jwksUrl) return this.origin.jwksUrl;
    if (this.discoveredJwksUri) return this.discoveredJwksUri;
    const url = discoveryUrl(this.issuer);
    this.counters.discoveryFetches++;
    this.discoveredJwksUri = jwksUriFromDiscovery(await fetchJson(this.deps.fetch, url, this.deps.tuning.fetchTimeoutMs), this.issuer, url);
    return this.discoveredJwksUri;
  }

  private install(jwks: JSONWebKeySet): void {
    this.keyGeneration++;
    this.loaded = {
      resolve: createLocalJWKSet(jwks),
      kids: new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')),
      loadedAt: this.deps.now(),
    };
  }
}
