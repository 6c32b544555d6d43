import type { DomainEvent } from '../shared/decider';

/** A policy version a worker enforces: its served tenants' views were compiled from it. */
export interface EnforcedPolicyVersion {
  policyId: string;
  version: number;
  /** Served tenants governed by it when reported (informative: a change of count alone is not recorded). */
  tenants: number;
}

/**
 * What a regional worker enforces, recorded by the mesh bridge in `worker-<workerId>` when it differs from the
 * last record (a new policy version, readiness, a restart) or after the worker was silent or stopped. The
 * record of policy versions confirmed per region: an auditor reads from it when each region enforced a revision.
 */
export type WorkerEnforcementReported = DomainEvent<
  'WorkerEnforcementReported',
  {
    workerId: string;
    region: string;
    startedAt: string;
    ready: boolean;
    /** Sorted by policy id, then version. */
    policies: EnforcedPolicyVersion[];
    servedTenants: number;
    /** When the worker sent the report (its clock). */
    reportedAt: string;
  }
>;

/** The worker sent nothing for longer than its silence bound: what it enforces is no longer known. */
export type WorkerSilent = DomainEvent<'WorkerSilent', { workerId: string; region: string; lastReportAt: string; silentForMs: number }>;

/** The worker said it is shutting down (its last report). */
export type WorkerStopped = DomainEvent<'WorkerStopped', { workerId: string; region: string; startedAt: string; stoppedAt: string }>;

export type WorkerStatusEvent = WorkerEnforcementReported | WorkerSilent | WorkerStopped;
