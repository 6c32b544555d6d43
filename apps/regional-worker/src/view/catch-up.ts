import type { PartitionEnd } from './end-offsets';

/**
 * Tracks a from-the-beginning read of topics against the ends they had before the read started. Offsets within
 * a partition are delivered in order, so having handled offset `end - 1` means everything before it was
 * handled too. (Kafka never compacts away the last record of a partition: it is the latest of its key.)
 */
export class CatchUpTracker {
  private readonly waitingFor = new Map<string, bigint>();

  constructor(ends: ReadonlyMap<string, readonly PartitionEnd[]>) {
    for (const [topic, partitions] of ends) {
      for (const { partition, start, end } of partitions) if (end > start) this.waitingFor.set(`${topic}:${partition}`, end - 1n);
    }
  }

  get caughtUp(): boolean {
    return this.waitingFor.size === 0;
  }

  /** Partitions still behind, for logs. */
  get behind(): number {
    return this.waitingFor.size;
  }

  /** Records a handled message; true once every partition reached its end. */
  handled(topic: string, partition: number, offset: string): boolean {
    const id = `${topic}:${partition}`;
    const last = this.waitingFor.get(id);
    if (last !== undefined && BigInt(offset) >= last) this.waitingFor.delete(id);
    return this.caughtUp;
  }
}
