import { OrbitalTopics } from '@cmk/orbital';

/** The Orbital topic names one worker uses, optionally behind a prefix (one Kafka cluster, several deployments). */
export interface WorkerTopics {
  state: string;
  deltas: string;
  revocations: string;
  heartbeat: string;
  acks: string;
  usage: string;
  tenantKeys: string;
  workerStatus: string;
  accessDecisions: string;
}

export function workerTopics(region: string, prefix = ''): WorkerTopics {
  return {
    state: prefix + OrbitalTopics.state,
    deltas: prefix + OrbitalTopics.regionDeltas(region),
    revocations: prefix + OrbitalTopics.revocations,
    heartbeat: prefix + OrbitalTopics.heartbeat,
    acks: prefix + OrbitalTopics.acks,
    usage: prefix + OrbitalTopics.usage,
    tenantKeys: prefix + OrbitalTopics.tenantKeys,
    workerStatus: prefix + OrbitalTopics.workerStatus,
    accessDecisions: prefix + OrbitalTopics.accessDecisions,
  };
}
