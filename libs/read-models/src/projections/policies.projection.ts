import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { POLICY_EVENT_TYPES } from '@cmk/domain';
import { eventTime, Projection, qi } from '../projection';

/** Policies, their versions and assignments. Policy changes are rare: one statement per event is fine. */
export class PoliciesProjection implements Projection {
  readonly name = 'policies';
  readonly tables = ['policies', 'policy_versions', 'policy_assignments'];

  handles(type: string): boolean {
    return (POLICY_EVENT_TYPES as string[]).includes(type);
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    const s = qi(schema);
    for (const e of events) {
      if (!this.handles(e.type)) continue;
      const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const at = eventTime(e);
      const by = (e.metadata?.actor as { subject?: string } | undefined)?.subject ?? null;
      switch (e.type) {
        case 'PolicyDefined':
          await tx.query(
            `INSERT INTO ${s}.policies (policy_id, name, description, latest_version, created_position, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5, $5)`,
            [d.policyId, d.name, d.description ?? null, e.position.toString(), at],
          );
          await tx.query(`INSERT INTO ${s}.policy_versions (policy_id, version, document, defined_at, defined_by) VALUES ($1, 1, $2, $3, $4)`, [d.policyId, JSON.stringify(d.document), at, by]);
          break;
        case 'PolicyRevised':
          await tx.query(`UPDATE ${s}.policies SET latest_version = $2, updated_at = $3 WHERE policy_id = $1`, [d.policyId, d.version, at]);
          await tx.query(`INSERT INTO ${s}.policy_versions (policy_id, version, document, defined_at, defined_by) VALUES ($1, $2, $3, $4, $5)`, [d.policyId, d.version, JSON.stringify(d.document), at, by]);
          break;
        case 'PolicyAssigned':
          await tx.query(
            `INSERT INTO ${s}.policy_assignments (scope, policy_id, version, assigned_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (scope, policy_id) DO UPDATE SET version = EXCLUDED.version, assigned_at = EXCLUDED.assigned_at`,
            [d.scope, d.policyId, String(d.version), at],
          );
          break;
        case 'PolicyUnassigned':
          await tx.query(`DELETE FROM ${s}.policy_assignments WHERE scope = $1 AND policy_id = $2`, [d.scope, d.policyId]);
          break;
      }
    }
  }
}
