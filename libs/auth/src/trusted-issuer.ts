import type { JSONWebKeySet } from 'jose';
import type { RoleName } from './roles';

/**
 * Asymmetric JWS algorithms only. HMAC would let anyone holding the published key material (or a shared secret)
 * mint tokens, and `none` is no signature at all; neither can be configured.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Workload (client-credentials) tokens. A token is a workload's when `systemClaim` holds a non-empty string; for
 * the claims every access token carries (`client_id`, `azp`) only when the subject is that client itself (RFC 9068
 * §2.2: a client acting on its own behalf), so a person's token from the same client stays a person's.
 */
export interface WorkloadMapping {
  /** Dotted path of the claim naming the workload: `cmk_system`, or `client_id` / `azp` with `systems`. */
  systemClaim: string;
  /** From the claim's value (e.g. a client id) to a CMK system id. When set, an unlisted value is refused. */
  systems?: Record<string, string>;
}

/** One IdP the service trusts. Exactly one key source: `jwksUrl`, `jwks`, or (neither) OIDC discovery. */
export interface TrustedIssuerConfig {
  /** Compared with the token's `iss` exactly (no trailing-slash or case folding). */
  issuer: string;
  /** One audience or several; the token must name at least one of them. */
  audience: string | string[];
  /** Explicit JWKS endpoint; without it (and without `jwks`) `<issuer>/.well-known/openid-configuration` is read. */
  jwksUrl?: string;
  /** A fixed key set (embedded mode, tests); nothing is fetched. */
  jwks?: JSONWebKeySet;
  /** Default: every algorithm in ASYMMETRIC_ALGORITHMS. */
  algorithms?: AsymmetricAlgorithm[];
  /** Default DEFAULT_CLOCK_TOLERANCE_SECONDS. */
  clockToleranceSeconds?: number;
  /** Dotted path of the roles/groups claim (array or space/comma separated string). Default `roles`. */
  rolesClaim?: string;
  /** Dotted path of the claim holding the tenant id(s) the subject is limited to. Default `cmk_tenant`. */
  tenantClaim?: string;
  /** IdP group/role name → CMK role. */
  roleMapping?: Record<string, RoleName>;
  /** Whether names that already are CMK roles count without a mapping entry. Default true. */
  passThroughCmkRoles?: boolean;
  workload?: WorkloadMapping;
}

/** The configuration with every default applied. */
export interface ResolvedIssuer {
  issuer: string;
  audience: string[];
  algorithms: AsymmetricAlgorithm[];
  clockToleranceSeconds: number;
  rolesClaim: string;
  tenantClaim: string;
  roleMapping: Record<string, RoleName>;
  passThroughCmkRoles: boolean;
  workload?: WorkloadMapping;
}

export function resolveIssuer(config: TrustedIssuerConfig): ResolvedIssuer {
  return {
    issuer: config.issuer,
    audience: Array.isArray(config.audience) ? [...config.audience] : [config.audience],
    algorithms: config.algorithms?.length ? [...config.algorithms] : [...ASYMMETRIC_ALGORITHMS],
    clockToleranceSeconds: config.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    rolesClaim: config.rolesClaim ?? 'roles',
    tenantClaim: config.tenantClaim ?? 'cmk_tenant',
    roleMapping: { ...(config.roleMapping ?? {}) },
    passThroughCmkRoles: config.passThroughCmkRoles ?? true,
    ...(config.workload ? { workload: { ...config.workload } } : {}),
  };
}

/** https everywhere; plain http only to this machine, where a local IdP or a test provider runs. */
export function isAllowedEndpoint(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}
