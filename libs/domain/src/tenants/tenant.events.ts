import type { DomainEvent } from '../shared/decider';
import type { Contact, DataClassification, Jurisdiction } from './tenant.commands';

export type TenantOnboarded = DomainEvent<
  'TenantOnboarded',
  {
    tenantId: string;
    displayName: string;
    jurisdiction: Jurisdiction;
    homeRegion: string;
    dataClassification: DataClassification;
    contacts: Contact[];
  }
>;
export type TenantUpdated = DomainEvent<
  'TenantUpdated',
  {
    tenantId: string;
    changes: { displayName?: string; homeRegion?: string; dataClassification?: DataClassification; contacts?: Contact[] };
  }
>;
export type TenantSuspended = DomainEvent<'TenantSuspended', { tenantId: string; reason: string }>;
export type TenantResumed = DomainEvent<'TenantResumed', { tenantId: string; reason?: string }>;
export type TenantOffboarded = DomainEvent<'TenantOffboarded', { tenantId: string; reason: string }>;

export type TenantEvent = TenantOnboarded | TenantUpdated | TenantSuspended | TenantResumed | TenantOffboarded;
export const TENANT_EVENT_TYPES: TenantEvent['type'][] = [
  'TenantOnboarded',
  'TenantUpdated',
  'TenantSuspended',
  'TenantResumed',
  'TenantOffboarded',
];
