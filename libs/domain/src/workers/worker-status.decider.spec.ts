import { given } from '../testing';
import { CheckWorkerSilence, ReportWorkerStatus, WorkerStatusState, workerStatusDecider } from './worker-status.decider';
import type { WorkerEnforcementReported, WorkerStatusEvent } from './worker-status.events';

const report = (over: Partial<ReportWorkerStatus> = {}): ReportWorkerStatus => ({
  kind: 'report',
  workerId: 'w1',
  region: 'eu-central-1',
  startedAt: '2026-11-29T10:00:00.000Z',
  sentAt: '2026-11-29T10:00:05.000Z',
  ready: true,
  stopping: false,
  policies: [{ policyId: 'geo', version: 1, tenants: 3 }],
  servedTenants: 3,
  ...over,
});
const reported = (over: Partial<ReportWorkerStatus> = {}): WorkerEnforcementReported => {
  const r = report(over);
  return {
    type: 'WorkerEnforcementReported',
    data: { workerId: r.workerId, region: r.region, startedAt: r.startedAt, ready: r.ready, policies: r.policies, servedTenants: r.servedTenants, reportedAt: r.sentAt },
  };
};
const scenario = (history: Parameters<typeof given<ReportWorkerStatus | CheckWorkerSilence, WorkerStatusEvent, WorkerStatusState>>[1]) => given(workerStatusDecider, history);

describe('worker status decider', () => {
  it('records the first report', () => {
    scenario([]).when(report()).then([reported()]);
  });

  it('records nothing when only the time or the tenant count moved', () => {
    scenario([reported()])
      .when(report({ sentAt: '2026-11-29T10:00:15.000Z', servedTenants: 4, policies: [{ policyId: 'geo', version: 1, tenants: 4 }] }))
      .then([]);
  });

  it('records a new policy version, readiness and a restart', () => {
    const v2 = [{ policyId: 'geo', version: 2, tenants: 3 }];
    scenario([reported()]).when(report({ policies: v2 })).then([reported({ policies: v2 })]);
    scenario([reported()]).when(report({ ready: false })).then([reported({ ready: false })]);
    scenario([reported()]).when(report({ startedAt: '2026-11-29T11:00:00.000Z' })).then([reported({ startedAt: '2026-11-29T11:00:00.000Z' })]);
  });

  it('silence: recorded once past the bound, and a report after it is recorded again even if unchanged', () => {
    const silent = { type: 'WorkerSilent' as const, data: { workerId: 'w1', region: 'eu-central-1', lastReportAt: '2026-11-29T10:00:05.000Z', silentForMs: 30_001 } };
    scenario([reported()]).when({ kind: 'check-silence', lastHeardAt: 0, now: 30_000, boundMs: 30_000 }).then([]);
    scenario([reported()]).when({ kind: 'check-silence', lastHeardAt: 0, now: 30_001, boundMs: 30_000 }).then([silent]);
    scenario([reported(), silent]).when({ kind: 'check-silence', lastHeardAt: 0, now: 90_000, boundMs: 30_000 }).then([]);
    scenario([reported(), silent]).when(report()).then([reported()]);
  });

  it('a clean stop is recorded once; a late report of the stopped process is ignored; a restart is recorded', () => {
    const stopped = { type: 'WorkerStopped' as const, data: { workerId: 'w1', region: 'eu-central-1', startedAt: '2026-11-29T10:00:00.000Z', stoppedAt: '2026-11-29T10:05:00.000Z' } };
    scenario([reported()]).when(report({ stopping: true, sentAt: '2026-11-29T10:05:00.000Z' })).then([stopped]);
    scenario([reported(), stopped]).when(report({ stopping: true, sentAt: '2026-11-29T10:05:01.000Z' })).then([]);
    scenario([reported(), stopped]).when(report()).then([]);
    scenario([reported(), stopped]).when({ kind: 'check-silence', lastHeardAt: 0, now: 1e9, boundMs: 1 }).then([]);
    scenario([reported(), stopped]).when(report({ startedAt: '2026-11-29T12:00:00.000Z' })).then([reported({ startedAt: '2026-11-29T12:00:00.000Z' })]);
  });
});
