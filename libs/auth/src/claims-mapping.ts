import type { JWTPayload } from 'jose';
import type { Actor } from '@cmk/domain';
import { TokenRefused } from './auth.errors';
import { ALL_ROLES, PLATFORM_WIDE_ROLES, RoleName } from './roles';
import type { ResolvedIssuer } from './trusted-issuer';

interface PrincipalBase {
  actor: Actor;
  issuer: string;
  /** The token's `exp`, in epoch milliseconds. */
  expiresAt: number;
}
export interface PersonPrincipal extends PrincipalBase {
  kind: 'person';
}
export interface WorkloadPrincipal extends PrincipalBase {
  kind: 'workload';
  /** The CMK system the workload acts for. */
  systemId: string;
}
export type Principal = PersonPrincipal | WorkloadPrincipal;

/** Claims that every access token from a client carries, so they identify a workload only with `sub` equal to them. */
const CLIENT_ID_CLAIMS = new Set(['client_id', 'azp']);

/** A dotted path walks nested objects; a claim whose own name is the whole path (`https://x.example/roles`) wins. */
export function claimAt(payload: object, path: string): unknown {
  if (Object.hasOwn(payload, path)) return (payload as Record<string, unknown>)[path];
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined), payload);
}

export function asList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

export function mapRoles(names: string[], issuer: Pick<ResolvedIssuer, 'roleMapping' | 'passThroughCmkRoles'>): RoleName[] {
  const mapped = names.map((n) => (Object.hasOwn(issuer.roleMapping, n) ? issuer.roleMapping[n] : issuer.passThroughCmkRoles ? n : undefined));
  return [...new Set(mapped.filter((n): n is RoleName => ALL_ROLES.includes(n as RoleName)))];
}

/** The system a workload token acts for, or undefined for a person's token. */
export function workloadSystem(payload: JWTPayload, issuer: ResolvedIssuer): string | undefined {
  const mapping = issuer.workload;
  if (!mapping) return undefined;
  const value = claimAt(payload, mapping.systemClaim);
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (CLIENT_ID_CLAIMS.has(mapping.systemClaim) && payload.sub !== value) return undefined;
  if (!mapping.systems) return value;
  if (!Object.hasOwn(mapping.systems, value)) throw new TokenRefused('invalid-claims', 'token is from a workload that is not mapped to a CMK system');
  return mapping.systems[value];
}

/** Builds the principal from a payload whose signature, issuer, audience and times were already verified. */
export function toPrincipal(payload: JWTPayload & { sub: string; exp: number; iss: string }, issuer: ResolvedIssuer): Principal {
  const roles = mapRoles(asList(claimAt(payload, issuer.rolesClaim)), issuer);
  const tenants = [...new Set(asList(claimAt(payload, issuer.tenantClaim)))];
  const platformWide = roles.some((r) => PLATFORM_WIDE_ROLES.includes(r)) && tenants.length === 0;
  const actor: Actor = {
    subject: payload.sub,
    roles,
    issuer: payload.iss,
    // A token naming tenants is limited to them; a token without tenants is platform-wide only for
    // platform-wide roles. Tenant roles without a tenant claim get an empty scope: they can act on nothing.
    ...(platformWide ? {} : { tenantScope: tenants }),
  };
  const base = { actor, issuer: payload.iss, expiresAt: payload.exp * 1000 };
  const systemId = workloadSystem(payload, issuer);
  return systemId === undefined ? { kind: 'person', ...base } : { kind: 'workload', systemId, ...base };
}
