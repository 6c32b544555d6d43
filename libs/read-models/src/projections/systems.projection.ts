import type { RecordedEvent } from '@cmk/event-store';
import { SYSTEM_EVENT_TYPES } from '@cmk/domain';
import { eventTime, Row, RowFoldProjection } from '../projection';

export class SystemsProjection extends RowFoldProjection {
  readonly name = 'systems';
  readonly table = 'systems';
  readonly key = 'system_id';
  protected readonly eventTypes = SYSTEM_EVENT_TYPES;

  protected evolveRow(row: Row | undefined, e: RecordedEvent): Row | undefined {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const at = eventTime(e);
    if (e.type === 'SystemRegistered')
      return {
        system_id: d.systemId,
        tenant_id: d.tenantId,
        name: d.name,
        region: d.region,
        key_link_id: d.keyLinkId,
        status: 'registered',
        revision: e.revision,
        created_position: e.position.toString(),
        created_at: at,
        updated_at: at,
      };
    if (!row) return undefined;
    if (e.type === 'SystemDeregistered') return { ...row, status: 'deregistered' };
    if (e.type === 'SystemRebound') return { ...row, key_link_id: d.toKeyLinkId };
    return row;
  }
}
