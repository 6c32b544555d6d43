import { createLocalJWKSet, createRemoteJWKSet, errors, JSONWebKeySet, jwtVerify, JWTPayload } from 'jose';
import { createHash } from 'node:crypto';
import type { Actor } from '@cmk/domain';
import { ALL_ROLES, PLATFORM_WIDE_ROLES, RoleName } from './roles';

export interface JwtVerifierConfig {
  issuer: string;
  audience: string;
  /** Remote JWKS URL, or a local key set (embedded mode). */
  jwksUrl?: string;
  jwks?: JSONWebKeySet;
  /** Claim holding roles (array or space-separated string). Dotted paths are allowed: `realm_access.roles`. */
  rolesClaim: string;
  /** Claim holding the tenant id(s) the subject is limited to. */
  tenantClaim: string;
  clockToleranceSeconds: number;
  /** Optional mapping from IdP group/role names to CMK roles. Unmapped names that are CMK roles pass through. */
  roleMapping?: Record<string, RoleName>;
}

export class AuthenticationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthenticationError';
  }
}

const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function claimAt(payload: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), payload);
}

function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** Verifies bearer JWTs (signature, issuer, audience, exp/nbf with skew; `alg: none` and HMAC are refused). */
export class JwtVerifier {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;
  /**
   * Verified tokens, by their SHA-256, until they expire: a signature check per request is the largest CPU cost
   * of a command. Bounded; an entry is used only while the token's own `exp` (with the configured skew) holds.
   */
  private readonly verified = new Map<string, { actor: Actor; expiresAt: number }>();
  private static readonly CACHE_SIZE = 10_000;

  constructor(private readonly config: JwtVerifierConfig) {
    if (config.jwks) this.keySet = createLocalJWKSet(config.jwks);
    else if (config.jwksUrl) this.keySet = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000 });
    else throw new Error('JwtVerifier needs jwksUrl or jwks');
  }

  async verify(token: string): Promise<Actor> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.verified.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.actor;
    if (hit) this.verified.delete(key);
    const actor = await this.verifyUncached(token);
    return actor;
  }

  private async verifyUncached(token: string): Promise<Actor> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockToleranceSeconds,
        algorithms: ALLOWED_ALGORITHMS,
      }));
    } catch (e) {
      throw new AuthenticationError(describeJoseError(e));
    }
    if (!payload.sub) throw new AuthenticationError('token has no subject');
    const roles = this.mapRoles(asList(claimAt(payload, this.config.rolesClaim)));
    const tenants = asList(claimAt(payload, this.config.tenantClaim));
    const platformWide = roles.some((r) => PLATFORM_WIDE_ROLES.includes(r)) && tenants.length === 0;
    const actor: Actor = {
      subject: payload.sub,
      roles,
      issuer: payload.iss,
      // A token naming tenants is limited to them; a token without tenants is platform-wide only for
      // platform-wide roles. Tenant roles without a tenant claim get an empty scope: they can act on nothing.
      ...(platformWide ? {} : { tenantScope: tenants }),
    };
    // Only tokens with an expiry are cached, and never past it (the clock skew allowance is not extended).
    if (typeof payload.exp === 'number') {
      if (this.verified.size >= JwtVerifier.CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(createHash('sha256').update(token).digest('base64url'), { actor, expiresAt: payload.exp * 1000 });
    }
    return actor;
  }

  private mapRoles(names: string[]): RoleName[] {
    const mapped = names.map((n) => this.config.roleMapping?.[n] ?? n).filter((n): n is RoleName => ALL_ROLES.includes(n as RoleName));
    return [...new Set(mapped)];
  }
}

function describeJoseError(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed) return `token claim "${e.claim}" is invalid (${e.reason})`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (e instanceof errors.JWKSNoMatchingKey) return 'token signing key is unknown';
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'token is malformed';
  if (e instanceof errors.JOSEError) return `token rejected (${e.code})`;
  return 'token could not be verified';
}
