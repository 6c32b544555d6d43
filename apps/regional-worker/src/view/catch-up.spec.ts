import { CatchUpTracker } from './catch-up';

describe('CatchUpTracker', () => {
  it('is caught up at once when every partition is empty', () => {
    const ends = new Map([['state', [{ partition: 0, start: 0n, end: 0n }, { partition: 1, start: 5n, end: 5n }]]]);
    expect(new CatchUpTracker(ends).caughtUp).toBe(true);
  });

  it('waits for the last offset of every non-empty partition of every topic', () => {
    const tracker = new CatchUpTracker(
      new Map([
        ['state', [{ partition: 0, start: 0n, end: 3n }, { partition: 1, start: 10n, end: 12n }, { partition: 2, start: 0n, end: 0n }]],
        ['revocations', [{ partition: 0, start: 0n, end: 1n }]],
      ]),
    );
    expect(tracker.handled('state', 0, '1')).toBe(false);
    expect(tracker.handled('state', 1, '11')).toBe(false);
    expect(tracker.handled('revocations', 1, '11')).toBe(false); // another topic's partition 1
    expect(tracker.behind).toBe(2);
    expect(tracker.handled('state', 2, '0')).toBe(false); // a partition that was empty at start does not matter
    expect(tracker.handled('state', 0, '2')).toBe(false);
    expect(tracker.handled('revocations', 0, '0')).toBe(true);
  });

  it('counts a later offset (messages published since the ends were read) as reaching the end', () => {
    const tracker = new CatchUpTracker(new Map([['state', [{ partition: 0, start: 0n, end: 3n }]]]));
    expect(tracker.handled('state', 0, '7')).toBe(true);
  });
});
