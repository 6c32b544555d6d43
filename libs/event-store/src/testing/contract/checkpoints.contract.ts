import { randomUUID } from 'node:crypto';
import type { CurrentSubject } from './contract-subject';

/** Compare-and-set checkpoints: a consumer moves only from the value it last saw. */
export function checkpointsContract(subject: CurrentSubject): void {
  describe('checkpoints', () => {
    it('creates from null, then moves only from the expected value', async () => {
      const { checkpoints } = subject().store;
      const consumer = `projection-${randomUUID()}`;
      expect(await checkpoints.get(consumer)).toBeNull();

      expect(await checkpoints.compareAndSet(consumer, 5n, 6n)).toBe(false);
      expect(await checkpoints.get(consumer)).toBeNull();
      expect(await checkpoints.compareAndSet(consumer, null, 5n)).toBe(true);
      expect(await checkpoints.get(consumer)).toBe(5n);

      expect(await checkpoints.compareAndSet(consumer, null, 6n)).toBe(false);
      expect(await checkpoints.compareAndSet(consumer, 4n, 7n)).toBe(false);
      expect(await checkpoints.get(consumer)).toBe(5n);
      expect(await checkpoints.compareAndSet(consumer, 5n, 7n)).toBe(true);
      expect(await checkpoints.get(consumer)).toBe(7n);
      // Moving back is allowed (a rebuild starts over); only the expected value guards the move.
      expect(await checkpoints.compareAndSet(consumer, 7n, 0n)).toBe(true);
      expect(await checkpoints.get(consumer)).toBe(0n);
    });

    it('keeps consumers apart and handles positions beyond 2^53', async () => {
      const { checkpoints } = subject().store;
      const a = `a-${randomUUID()}`;
      const b = `b-${randomUUID()}`;
      const big = 2n ** 62n + 1n;
      expect(await checkpoints.compareAndSet(a, null, big)).toBe(true);
      expect(await checkpoints.get(a)).toBe(big);
      expect(await checkpoints.get(b)).toBeNull();
    });

    it('lets exactly one of many racing writers win', async () => {
      const { checkpoints } = subject().store;
      const consumer = `race-${randomUUID()}`;
      const creates = await Promise.all(Array.from({ length: 10 }, (_, i) => checkpoints.compareAndSet(consumer, null, BigInt(i + 1))));
      expect(creates.filter(Boolean)).toHaveLength(1);
      const current = (await checkpoints.get(consumer))!;
      const moves = await Promise.all(Array.from({ length: 10 }, (_, i) => checkpoints.compareAndSet(consumer, current, current + BigInt(i + 1))));
      expect(moves.filter(Boolean)).toHaveLength(1);
    });
  });
}
