import { Decider } from '../shared/decider';
import { DomainError, invalid, invalidState, notFound } from '../shared/errors';
import { isRegion } from '../shared/validation';
import { Contact, DATA_CLASSIFICATIONS, JURISDICTIONS, TenantCommand } from './tenant.commands';
import { TenantEvent, TenantOnboarded } from './tenant.events';

export type TenantStatus = 'active' | 'suspended' | 'offboarded';

export type TenantState =
  | { exists: false }
  | ({ exists: true; status: TenantStatus } & TenantOnboarded['data']);

const initialState: TenantState = { exists: false };

function requireExisting(state: TenantState, tenantId: string) {
  if (!state.exists) throw notFound('tenant', tenantId);
  if (state.status === 'offboarded')
    throw invalidState('tenant.offboarded', `tenant ${tenantId} is offboarded; offboarding is final`, { tenantId });
  return state;
}

function validateContacts(contacts: Contact[] | undefined): void {
  for (const [i, c] of (contacts ?? []).entries()) {
    if (!c.name?.trim()) throw invalid('tenant.contact.name', `contacts[${i}].name must not be empty`, { field: `contacts[${i}].name` });
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(c.email ?? ''))
      throw invalid('tenant.contact.email', `contacts[${i}].email is not an e-mail address`, { field: `contacts[${i}].email` });
  }
}

function validateRegion(region: string | undefined, field: string, required = false): void {
  if ((region !== undefined || required) && !isRegion(region as string))
    throw invalid('region.format', `${field} "${region}" is not a region name like eu-central-1`, { field });
}

/** JSON with object keys sorted: PostgreSQL JSONB does not keep key order, so values read back compare by content. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export const tenantDecider: Decider<TenantCommand, TenantEvent, TenantState> = {
  initialState,

  decide(command, state): TenantEvent[] {
    switch (command.type) {
      case 'OnboardTenant': {
        if (state.exists) throw invalidState('tenant.exists', `tenant ${command.tenantId} already exists`, { tenantId: command.tenantId });
        if (!command.displayName?.trim()) throw invalid('tenant.displayName', 'displayName must not be empty', { field: 'displayName' });
        if (!JURISDICTIONS.includes(command.jurisdiction))
          throw invalid('tenant.jurisdiction', `jurisdiction must be one of ${JURISDICTIONS.join(', ')}`, { field: 'jurisdiction' });
        if (!DATA_CLASSIFICATIONS.includes(command.dataClassification))
          throw invalid('tenant.dataClassification', `dataClassification must be one of ${DATA_CLASSIFICATIONS.join(', ')}`, { field: 'dataClassification' });
        validateRegion(command.homeRegion, 'homeRegion', true);
        validateContacts(command.contacts);
        // Name the fields: whatever else the command object carries must not end up in the audit log.
        const { tenantId, displayName, jurisdiction, homeRegion, dataClassification, contacts } = command;
        return [{ type: 'TenantOnboarded', data: { tenantId, displayName: displayName.trim(), jurisdiction, homeRegion, dataClassification, contacts: contacts ?? [] } }];
      }
      case 'UpdateTenant': {
        const current = requireExisting(state, command.tenantId);
        if (command.displayName !== undefined && !command.displayName.trim())
          throw invalid('tenant.displayName', 'displayName must not be empty', { field: 'displayName' });
        if (command.dataClassification !== undefined && !DATA_CLASSIFICATIONS.includes(command.dataClassification))
          throw invalid('tenant.dataClassification', `dataClassification must be one of ${DATA_CLASSIFICATIONS.join(', ')}`, { field: 'dataClassification' });
        validateRegion(command.homeRegion, 'homeRegion');
        validateContacts(command.contacts);
        const changes: Record<string, unknown> = {};
        // Trimmed as at onboarding, so " ACME " neither differs from "ACME" nor gets stored padded.
        const proposed = { ...command, displayName: command.displayName?.trim() };
        for (const key of ['displayName', 'homeRegion', 'dataClassification', 'contacts'] as const) {
          const value = proposed[key];
          if (value !== undefined && canonicalJson(value) !== canonicalJson(current[key])) changes[key] = value;
        }
        // Nothing changed: record nothing rather than an empty fact.
        if (Object.keys(changes).length === 0) return [];
        return [{ type: 'TenantUpdated', data: { tenantId: command.tenantId, changes } }];
      }
      case 'SuspendTenant': {
        const current = requireExisting(state, command.tenantId);
        requireReason(command.reason);
        if (current.status === 'suspended') return [];
        return [{ type: 'TenantSuspended', data: { tenantId: command.tenantId, reason: command.reason } }];
      }
      case 'ResumeTenant': {
        const current = requireExisting(state, command.tenantId);
        if (current.status === 'active') return [];
        return [{ type: 'TenantResumed', data: { tenantId: command.tenantId, ...(command.reason ? { reason: command.reason } : {}) } }];
      }
      case 'OffboardTenant': {
        requireExisting(state, command.tenantId);
        requireReason(command.reason);
        if (command.activeKeyLinkIds.length > 0)
          throw invalidState(
            'tenant.has-active-key-links',
            `tenant ${command.tenantId} still has ${command.activeKeyLinkIds.length} active key link(s); revoke or unlink them before offboarding`,
            { tenantId: command.tenantId, activeKeyLinkIds: command.activeKeyLinkIds },
          );
        return [{ type: 'TenantOffboarded', data: { tenantId: command.tenantId, reason: command.reason } }];
      }
    }
  },

  evolve(state, event): TenantState {
    switch (event.type) {
      case 'TenantOnboarded':
        return { exists: true, status: 'active', ...event.data };
      case 'TenantUpdated':
        return state.exists ? { ...state, ...event.data.changes } : state;
      case 'TenantSuspended':
        return state.exists ? { ...state, status: 'suspended' } : state;
      case 'TenantResumed':
        return state.exists ? { ...state, status: 'active' } : state;
      case 'TenantOffboarded':
        return state.exists ? { ...state, status: 'offboarded' } : state;
    }
  },
};

export function requireReason(reason: string | undefined): void {
  if (!reason?.trim()) throw invalid('reason.required', 'a reason is required for this command', { field: 'reason' });
}

export type { DomainError };
