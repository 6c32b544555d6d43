import type { Actor } from '@cmk/domain';

export class TenantAccessDenied extends Error {
  constructor(readonly tenantId: string) {
    super(`not allowed to act on tenant ${tenantId}`);
    this.name = 'TenantAccessDenied';
  }
}

/** True when the actor may act on the tenant: no scope means platform-wide. */
export function canAccessTenant(actor: Actor, tenantId: string): boolean {
  return actor.tenantScope === undefined || actor.tenantScope.includes(tenantId);
}

/** Enforced in handlers and queries, not only at the edge: the URL or body never widens a scope. */
export function assertTenantAccess(actor: Actor, tenantId: string): void {
  if (!canAccessTenant(actor, tenantId)) throw new TenantAccessDenied(tenantId);
}
