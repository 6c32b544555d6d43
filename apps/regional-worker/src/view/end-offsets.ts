import type { InProcessMesh } from '@cmk/mesh';

/**
 * Where each partition of a topic starts and ends right now: `start` is the oldest offset still kept, `end`
 * the offset the next message will get (Kafka's high watermark). The worker reads them for the state topic
 * before it starts reading it, and is caught up once it has handled offset `end - 1` of every non-empty
 * partition.
 *
 * Why not the Mesh port: it has no such call. Why not the bridge heartbeat: its position says what the bridge
 * has published, not what this consumer has read; partitions are read independently, so having seen a state
 * message at or above the heartbeat's position in one partition says nothing about the others (and a
 * heartbeat position caused by an event without a state message would never be matched at all).
 */
export interface PartitionEnd {
  partition: number;
  start: bigint;
  end: bigint;
}

export interface EndOffsets {
  read(topic: string): Promise<PartitionEnd[]>;
  close(): Promise<void>;
}

/**
 * End offsets of an {@link InProcessMesh} (embedded mode), read through its `readFrom` (public but marked
 * internal: the port offers nothing better; see the README). Partitions are probed until one does not exist.
 */
export function inProcessEndOffsets(mesh: InProcessMesh): EndOffsets {
  return {
    async read(topic) {
      const ends: PartitionEnd[] = [];
      for (let partition = 0; ; partition++) {
        let first;
        try {
          first = mesh.readFrom(topic, partition, 0);
        } catch (error) {
          // The adapter indexes past its last partition: a TypeError. Anything else (unknown topic) is real.
          if (partition > 0 && error instanceof TypeError) return ends;
          throw error;
        }
        if (!first) {
          ends.push({ partition, start: 0n, end: 0n });
          continue;
        }
        // readFrom(o) finds a record iff o <= the last offset: binary search for the last one.
        let lo = first.offset;
        let hi = Number.MAX_SAFE_INTEGER;
        while (lo < hi) {
          const mid = lo + Math.ceil((hi - lo) / 2);
          if (mesh.readFrom(topic, partition, mid)) lo = mid;
          else hi = mid - 1;
        }
        ends.push({ partition, start: BigInt(first.offset), end: BigInt(mesh.readFrom(topic, partition, lo)!.offset + 1) });
      }
    },
    async close() {},
  };
}
