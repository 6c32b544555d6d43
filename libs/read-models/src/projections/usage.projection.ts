import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { Projection, qi } from '../projection';

interface UsageReportedData {
  region: string;
  windowStart: string;
  counts: { tenantId: string; systemId: string; operation: string; outcome: string; count: number }[];
}

/**
 * Usage for billing: the operation counts workers report (UsageReported, one event per worker and window, recorded
 * once by the bridge) summed per UTC day, tenant, system, operation, outcome and region. The runner applies each
 * event exactly once (rows and checkpoint in one transaction), so adding is safe.
 */
export class UsageProjection implements Projection {
  readonly name = 'usage';
  readonly tables = ['usage_daily'];

  handles(eventType: string): boolean {
    return eventType === 'UsageReported';
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    const sums = new Map<string, { day: string; tenant_id: string; system_id: string; operation: string; outcome: string; region: string; count: number }>();
    for (const e of events) {
      if (!this.handles(e.type)) continue;
      const data = e.data as UsageReportedData;
      const day = data.windowStart.slice(0, 10);
      for (const c of data.counts) {
        if (!Number.isInteger(c.count) || c.count <= 0) continue;
        const key = [day, c.tenantId, c.systemId, c.operation, c.outcome, data.region].join('\u0000');
        const row = sums.get(key) ?? { day, tenant_id: c.tenantId, system_id: c.systemId, operation: c.operation, outcome: c.outcome, region: data.region, count: 0 };
        row.count += c.count;
        sums.set(key, row);
      }
    }
    if (sums.size === 0) return;
    const table = `${qi(schema)}.usage_daily`;
    await tx.query(
      `INSERT INTO ${table} (day, tenant_id, system_id, operation, outcome, region, count)
       SELECT day, tenant_id, system_id, operation, outcome, region, count FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)
       ON CONFLICT (day, tenant_id, system_id, operation, outcome, region) DO UPDATE SET count = ${table}.count + EXCLUDED.count`,
      [JSON.stringify([...sums.values()])],
    );
  }
}
