import { Role, RoleName } from '@cmk/auth';
import type { ApprovableOperation } from '@cmk/domain';
import type { ApprovalAction } from '@cmk/policy';

/**
 * The commands four-eyes approval can hold, the policy action that says how many approvers each needs, and the
 * roles its route allows. The routes declare `@Roles(...APPROVABLE.X.roles)`, so the roles that may ask for a
 * command and the roles that may approve it are the same list and cannot drift apart.
 */
export const APPROVABLE: Readonly<Record<ApprovableOperation, { action: ApprovalAction; roles: RoleName[] }>> = {
  RestoreKeyLink: { action: 'key-link.restore', roles: [Role.KeyAdmin, Role.SecurityOfficer] },
  UnlinkKey: { action: 'key-link.unlink', roles: [Role.KeyAdmin] },
  OffboardTenant: { action: 'tenant.offboard', roles: [Role.PlatformOperator] },
  DefinePolicy: { action: 'policy.change', roles: [Role.SecurityOfficer, Role.PlatformOperator] },
  RevisePolicy: { action: 'policy.change', roles: [Role.SecurityOfficer, Role.PlatformOperator] },
  AssignPolicy: { action: 'policy.change', roles: [Role.SecurityOfficer, Role.PlatformOperator] },
  UnassignPolicy: { action: 'policy.change', roles: [Role.SecurityOfficer, Role.PlatformOperator] },
};
