import { deriveEventId } from './event-id';

describe('deriveEventId', () => {
  it('is deterministic per (command id, index) and a well-formed UUID v5', () => {
    const id = deriveEventId('cmd-1', 0);
    expect(deriveEventId('cmd-1', 0)).toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('differs between indexes and between command ids, also where a naive concatenation would collide', () => {
    const ids = [deriveEventId('cmd-1', 0), deriveEventId('cmd-1', 1), deriveEventId('cmd-2', 0), deriveEventId('a/1', 0), deriveEventId('a', 10)];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses an index that is not a non-negative integer', () => {
    expect(() => deriveEventId('cmd', -1)).toThrow(RangeError);
    expect(() => deriveEventId('cmd', 1.5)).toThrow(RangeError);
  });
});
