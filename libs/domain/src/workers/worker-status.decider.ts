import type { Decider } from '../shared/decider';
import type { EnforcedPolicyVersion, WorkerStatusEvent } from './worker-status.events';

export type WorkerLiveness = 'reporting' | 'silent' | 'stopped';

export type WorkerStatusState =
  | { exists: false }
  | {
      exists: true;
      workerId: string;
      region: string;
      startedAt: string;
      ready: boolean;
      policies: EnforcedPolicyVersion[];
      liveness: WorkerLiveness;
      /** The `reportedAt` of the last recorded report. */
      lastReportAt: string;
    };

/** A report as the worker sent it (see the Orbital WorkerStatusMessage). */
export interface ReportWorkerStatus {
  kind: 'report';
  workerId: string;
  region: string;
  startedAt: string;
  sentAt: string;
  ready: boolean;
  stopping: boolean;
  policies: EnforcedPolicyVersion[];
  servedTenants: number;
}

/** The watcher has heard nothing from the worker since `lastHeardAt` (its own clock) and asks whether that is silence. */
export interface CheckWorkerSilence {
  kind: 'check-silence';
  lastHeardAt: number;
  now: number;
  /** Longest silence that is still normal (a few report intervals). */
  boundMs: number;
}

export type WorkerStatusCommand = ReportWorkerStatus | CheckWorkerSilence;

const samePolicies = (a: readonly EnforcedPolicyVersion[], b: readonly EnforcedPolicyVersion[]) =>
  a.length === b.length && a.every((p, i) => p.policyId === b[i].policyId && p.version === b[i].version);

/**
 * Records changes, never repeats: a worker reports every few seconds, the log keeps only what moved (policy versions,
 * readiness, a restart, silence, a clean stop). Pure; the bridge appends the result with the stream's revision as
 * expected revision, so two bridges cannot both record the same change.
 */
export const workerStatusDecider: Decider<WorkerStatusCommand, WorkerStatusEvent, WorkerStatusState> = {
  initialState: { exists: false },

  decide(command, state) {
    if (command.kind === 'check-silence') {
      if (!state.exists || state.liveness !== 'reporting') return [];
      const silentForMs = command.now - command.lastHeardAt;
      if (silentForMs <= command.boundMs) return [];
      return [{ type: 'WorkerSilent', data: { workerId: state.workerId, region: state.region, lastReportAt: state.lastReportAt, silentForMs } }];
    }
    const { workerId, region, startedAt, sentAt, ready, policies, servedTenants } = command;
    if (command.stopping) {
      if (state.exists && state.liveness === 'stopped' && state.startedAt === startedAt) return [];
      return [{ type: 'WorkerStopped', data: { workerId, region, startedAt, stoppedAt: sentAt } }];
    }
    // A late periodic report of a process that already said it stopped is no news.
    if (state.exists && state.liveness === 'stopped' && state.startedAt === startedAt) return [];
    const unchanged =
      state.exists &&
      state.liveness === 'reporting' &&
      state.startedAt === startedAt &&
      state.region === region &&
      state.ready === ready &&
      samePolicies(state.policies, policies);
    if (unchanged) return [];
    return [{ type: 'WorkerEnforcementReported', data: { workerId, region, startedAt, ready, policies, servedTenants, reportedAt: sentAt } }];
  },

  evolve(state, event) {
    switch (event.type) {
      case 'WorkerEnforcementReported': {
        const d = event.data;
        return { exists: true, workerId: d.workerId, region: d.region, startedAt: d.startedAt, ready: d.ready, policies: d.policies, liveness: 'reporting', lastReportAt: d.reportedAt };
      }
      case 'WorkerSilent':
        return state.exists ? { ...state, liveness: 'silent' } : state;
      case 'WorkerStopped':
        return state.exists
          ? { ...state, startedAt: event.data.startedAt, liveness: 'stopped', lastReportAt: event.data.stoppedAt }
          : { exists: true, workerId: event.data.workerId, region: event.data.region, startedAt: event.data.startedAt, ready: false, policies: [], liveness: 'stopped', lastReportAt: event.data.stoppedAt };
    }
  },
};
