import type { RecordedEvent } from '@cmk/event-store';
import { TENANT_EVENT_TYPES } from '@cmk/domain';
import { eventTime, Row, RowFoldProjection } from '../projection';

const CHANGE_COLUMNS: Record<string, string> = {
  displayName: 'display_name',
  homeRegion: 'home_region',
  dataClassification: 'data_classification',
  contacts: 'contacts',
};

export class TenantsProjection extends RowFoldProjection {
  readonly name = 'tenants';
  readonly table = 'tenants';
  readonly key = 'tenant_id';
  protected readonly eventTypes = TENANT_EVENT_TYPES;

  protected evolveRow(row: Row | undefined, e: RecordedEvent): Row | undefined {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const at = eventTime(e);
    if (e.type === 'TenantOnboarded')
      return {
        tenant_id: d.tenantId,
        display_name: d.displayName,
        jurisdiction: d.jurisdiction,
        home_region: d.homeRegion,
        data_classification: d.dataClassification,
        contacts: d.contacts ?? [],
        status: 'active',
        revision: e.revision,
        created_position: e.position.toString(),
        created_at: at,
        updated_at: at,
      };
    if (!row) return undefined;
    switch (e.type) {
      case 'TenantUpdated':
        for (const [k, v] of Object.entries(d.changes ?? {})) if (CHANGE_COLUMNS[k]) row[CHANGE_COLUMNS[k]] = v;
        return row;
      case 'TenantSuspended':
        return { ...row, status: 'suspended' };
      case 'TenantResumed':
        return { ...row, status: 'active' };
      case 'TenantOffboarded':
        return { ...row, status: 'offboarded' };
      default:
        return row;
    }
  }
}
