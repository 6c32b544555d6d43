import { Position, START } from '../event-store.port';

/** Argument checks shared by the read side: a bad argument fails loudly instead of reading something else. */
export function assertStreamName(streamName: string): void {
  if (typeof streamName !== 'string' || streamName === '') throw new TypeError('stream name must be a non-empty string');
}

export function maxCountOf(maxCount: number | undefined): number | null {
  if (maxCount === undefined) return null;
  if (!Number.isInteger(maxCount) || maxCount < 0) throw new RangeError(`maxCount must be a non-negative integer, got ${maxCount}`);
  return maxCount;
}

export function positionOf(after: Position | undefined): Position {
  if (after === undefined) return START;
  if (typeof after !== 'bigint' || after < 0n) throw new RangeError(`position must be a non-negative bigint, got ${String(after)}`);
  return after;
}
