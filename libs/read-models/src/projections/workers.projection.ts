import type { RecordedEvent } from '@cmk/event-store';
import { eventTime, Row, RowFoldProjection } from '../projection';

const TYPES = ['WorkerEnforcementReported', 'WorkerSilent', 'WorkerStopped'] as const;

/** One row per regional worker: the policy versions it last reported enforcing, and whether it still reports. */
export class WorkersProjection extends RowFoldProjection {
  readonly name = 'workers';
  readonly table = 'workers';
  readonly key = 'worker_id';
  protected readonly eventTypes = TYPES;

  protected evolveRow(row: Row | undefined, e: RecordedEvent): Row | undefined {
    const d = e.data as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (e.type === 'WorkerEnforcementReported')
      return {
        worker_id: d.workerId,
        region: d.region,
        started_at: d.startedAt,
        ready: d.ready === true,
        liveness: 'reporting',
        policies: d.policies ?? [],
        served_tenants: d.servedTenants ?? 0,
        last_report_at: d.reportedAt,
        revision: e.revision,
        created_position: row?.created_position ?? e.position.toString(),
        updated_at: eventTime(e),
      };
    if (e.type === 'WorkerStopped')
      return {
        ...(row ?? { worker_id: d.workerId, ready: false, policies: [], served_tenants: 0, created_position: e.position.toString() }),
        region: d.region,
        started_at: d.startedAt,
        liveness: 'stopped',
        last_report_at: d.stoppedAt,
        revision: e.revision,
        updated_at: eventTime(e),
      };
    if (!row) return undefined;
    if (e.type === 'WorkerSilent') return { ...row, liveness: 'silent' };
    return row;
  }
}
