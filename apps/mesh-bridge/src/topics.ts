import type { MeshTopic } from '@cmk/mesh';
import { OrbitalTopics } from '@cmk/orbital';

/** The Orbital topic names of one deployment: the contract's names behind an optional prefix. */
export interface BridgeTopics {
  state: string;
  revocations: string;
  acks: string;
  usage: string;
  tenantKeys: string;
  heartbeat: string;
  workerStatus: string;
  accessDecisions: string;
  regionDeltas: ReadonlyMap<string, string>;
}

export function bridgeTopics(prefix: string, regions: readonly string[]): BridgeTopics {
  return {
    state: prefix + OrbitalTopics.state,
    revocations: prefix + OrbitalTopics.revocations,
    acks: prefix + OrbitalTopics.acks,
    usage: prefix + OrbitalTopics.usage,
    tenantKeys: prefix + OrbitalTopics.tenantKeys,
    heartbeat: prefix + OrbitalTopics.heartbeat,
    workerStatus: prefix + OrbitalTopics.workerStatus,
    accessDecisions: prefix + OrbitalTopics.accessDecisions,
    regionDeltas: new Map(regions.map((r) => [r, prefix + OrbitalTopics.regionDeltas(r)])),
  };
}

/**
 * What the bridge makes sure exists at start. Keyed topics share one partition count (the key, a tenant or a
 * worker id, picks the partition); the heartbeat has one partition so its order is total.
 */
export function topicSpecs(topics: BridgeTopics, partitions: number): MeshTopic[] {
  return [
    { name: topics.state, partitions, compacted: true },
    ...[...topics.regionDeltas.values()].map((name) => ({ name, partitions })),
    { name: topics.revocations, partitions },
    { name: topics.acks, partitions },
    { name: topics.usage, partitions },
    { name: topics.tenantKeys, partitions },
    // Only the latest heartbeats matter to anyone: an hour is plenty.
    { name: topics.heartbeat, partitions: 1, retentionMs: 3_600_000 },
    // Reports are state, re-sent every few seconds; what mattered is recorded in the event store.
    { name: topics.workerStatus, partitions, retentionMs: 3_600_000 },
    // Default retention: a report waits here until the bridge recorded it, however long the bridge was away.
    { name: topics.accessDecisions, partitions },
  ];
}
