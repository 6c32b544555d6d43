import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { Categories, parseStreamName } from '@cmk/domain';
import { eventTime, Projection, qi } from '../projection';

/** The tenant an event concerns, for the auditor's tenant filter. */
export function tenantOf(e: RecordedEvent): string | null {
  const fromData = (e.data as { tenantId?: unknown } | null)?.tenantId;
  if (typeof fromData === 'string') return fromData;
  try {
    const { category, id } = parseStreamName(e.streamName);
    if (category === Categories.tenant) return id;
    if (category === Categories.policyScope && id !== 'global') return id;
  } catch {
    /* not a category-id stream: no tenant */
  }
  return null;
}

/** Indexes every event of the log (one multi-row INSERT per batch). */
export class AuditIndexProjection implements Projection {
  readonly name = 'audit-index';
  readonly tables = ['audit_index'];

  handles(): boolean {
    return true;
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({
      position: e.position.toString(),
      stream_name: e.streamName,
      revision: e.revision,
      type: e.type,
      actor_subject: (e.metadata?.actor as { subject?: string } | undefined)?.subject ?? null,
      tenant_id: tenantOf(e),
      occurred_at: eventTime(e),
      recorded_at: e.recordedAt.toISOString(),
      data: e.data,
      metadata: e.metadata,
    }));
    const table = `${qi(schema)}.audit_index`;
    await tx.query(`INSERT INTO ${table} SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`, [JSON.stringify(rows)]);
  }
}
