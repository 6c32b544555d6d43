export const JURISDICTIONS = ['EU', 'US', 'UK', 'CH', 'CA', 'APAC', 'LATAM', 'MEA'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];
export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

export interface Contact {
  name: string;
  email: string;
  role?: string;
}

export interface OnboardTenant {
  type: 'OnboardTenant';
  tenantId: string;
  displayName: string;
  jurisdiction: Jurisdiction;
  homeRegion: string;
  dataClassification: DataClassification;
  contacts: Contact[];
}

export interface UpdateTenant {
  type: 'UpdateTenant';
  tenantId: string;
  displayName?: string;
  homeRegion?: string;
  dataClassification?: DataClassification;
  contacts?: Contact[];
}

export interface SuspendTenant {
  type: 'SuspendTenant';
  tenantId: string;
  reason: string;
}

export interface ResumeTenant {
  type: 'ResumeTenant';
  tenantId: string;
  reason?: string;
}

export interface OffboardTenant {
  type: 'OffboardTenant';
  tenantId: string;
  reason: string;
  /** Facts supplied by the handler: the tenant's key links that are still active. */
  activeKeyLinkIds: string[];
}

export type TenantCommand = OnboardTenant | UpdateTenant | SuspendTenant | ResumeTenant | OffboardTenant;
