/** CMK roles. People get them from their IdP's claims; internal services and workloads from their clients. */
export const Role = {
  PlatformOperator: 'platform-operator',
  TenantAdmin: 'tenant-admin',
  KeyAdmin: 'key-admin',
  SecurityOfficer: 'security-officer',
  Auditor: 'auditor',
} as const;
export type RoleName = (typeof Role)[keyof typeof Role];
export const ALL_ROLES: RoleName[] = Object.values(Role);

/** Roles whose holders act platform-wide unless the token narrows them to tenants. */
export const PLATFORM_WIDE_ROLES: RoleName[] = [Role.PlatformOperator, Role.SecurityOfficer, Role.Auditor];
