import { JURISDICTIONS } from '../tenants/tenant.commands';

/**
 * Where a policy can be assigned, widest first: `global`, a jurisdiction (`jurisdiction:EU`), a tenant (its id).
 * A tenant is governed by the policies of all three; narrower scopes may tighten wider guardrails, never loosen.
 */
export const GLOBAL_POLICY_SCOPE = 'global';
const JURISDICTION_PREFIX = 'jurisdiction:';

export const jurisdictionScope = (jurisdiction: string): string => `${JURISDICTION_PREFIX}${jurisdiction}`;

/** The jurisdiction a scope names, or undefined when it is not a (known) jurisdiction scope. */
export function jurisdictionOfScope(scope: string): string | undefined {
  if (!scope.startsWith(JURISDICTION_PREFIX)) return undefined;
  const j = scope.slice(JURISDICTION_PREFIX.length);
  return (JURISDICTIONS as readonly string[]).includes(j) ? j : undefined;
}

export const isJurisdictionScope = (scope: string): boolean => scope.startsWith(JURISDICTION_PREFIX);

/** The scopes whose policies govern a tenant, widest first. */
export function scopesGoverning(tenantId: string, jurisdiction: string | undefined): string[] {
  return jurisdiction ? [GLOBAL_POLICY_SCOPE, jurisdictionScope(jurisdiction), tenantId] : [GLOBAL_POLICY_SCOPE, tenantId];
}

/** The scopes wider than `scope` (for guardrails): none for global, global for a jurisdiction, global + its jurisdiction for a tenant. */
export function widerScopes(scope: string, tenantJurisdiction?: string): string[] {
  if (scope === GLOBAL_POLICY_SCOPE) return [];
  if (isJurisdictionScope(scope)) return [GLOBAL_POLICY_SCOPE];
  return tenantJurisdiction ? [GLOBAL_POLICY_SCOPE, jurisdictionScope(tenantJurisdiction)] : [GLOBAL_POLICY_SCOPE];
}
