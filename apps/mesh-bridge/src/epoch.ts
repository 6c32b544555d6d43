import type { CheckpointStore } from '@cmk/event-store';

/**
 * Claims the next epoch for a starting bridge instance: a counter kept as a checkpoint entry beside the bridge's
 * checkpoint, moved compare-and-set, so it increases across restarts and two instances starting at once never
 * share one. Workers ignore heartbeats from an epoch older than the newest they heard.
 */
export async function claimEpoch(checkpoints: CheckpointStore, consumer: string): Promise<number> {
  const entry = `${consumer}.epoch`;
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await checkpoints.get(entry);
    const next = (current ?? 0n) + 1n;
    if (await checkpoints.compareAndSet(entry, current, next)) return Number(next);
  }
  throw new Error(`could not claim an epoch for "${consumer}": the entry keeps changing (are many bridges starting at once?)`);
}
