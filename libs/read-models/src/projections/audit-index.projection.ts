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

/**
 * Indexes every event of the log (one multi-row INSERT per batch). When the event store's table lives in the
 * same database (PostgreSQL and embedded), the rows are copied there by position with INSERT ... SELECT, so the
 * payloads never travel to the application and back; the SQL derives exactly what `tenantOf` derives.
 */
export class AuditIndexProjection implements Projection {
  readonly name = 'audit-index';
  readonly tables = ['audit_index'];

  /** @param eventsTable the event store's table, schema-qualified and quoted, when it is in the same database */
  constructor(private readonly eventsTable?: string) {}

  handles(): boolean {
    return true;
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    if (events.length === 0) return;
    if (this.eventsTable) {
      await tx.query(
        `INSERT INTO ${qi(schema)}.audit_index
         SELECT e.global_position, e.stream_name, e.revision, e.type, e.metadata->'actor'->>'subject',
           CASE WHEN jsonb_typeof(e.data->'tenantId') = 'string' THEN e.data->>'tenantId'
                WHEN split_part(e.stream_name, '-', 1) = 'tenant' AND position('-' in e.stream_name) > 0 THEN substr(e.stream_name, position('-' in e.stream_name) + 1)
                WHEN split_part(e.stream_name, '-', 1) = 'policyscope' AND substr(e.stream_name, position('-' in e.stream_name) + 1) <> 'global'
                  THEN substr(e.stream_name, position('-' in e.stream_name) + 1)
                ELSE NULL END,
           CASE WHEN jsonb_typeof(e.metadata->'occurredAt') = 'string' THEN (e.metadata->>'occurredAt')::timestamptz ELSE e.recorded_at END,
           e.recorded_at, e.data, e.metadata
         FROM ${this.eventsTable} e WHERE e.global_position = ANY($1::bigint[])`,
        [events.map((e) => e.position.toString())],
      );
      return;
    }
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
