import { boundedChunks } from './kafka-mesh.adapter';

const record = (key: string, bytes: number, headers: Record<string, string> = {}) => ({ key, value: Buffer.alloc(bytes), headers });

describe('boundedChunks', () => {
  it('keeps order and splits before a record that would pass the bound (framing and headers counted)', () => {
    const records = [record('a', 400), record('b', 400), record('c', 400, { 'cmk-position': '12345' }), record('d', 10)];
    const chunks = boundedChunks(records, 1_000);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['a', 'b'], ['c', 'd']]);
    expect(chunks.flat()).toEqual(records);
  });

  it('a record larger than the bound goes alone (the broker, not the client, refuses it)', () => {
    expect(boundedChunks([record('a', 10), record('big', 5_000), record('b', 10)], 1_000).map((c) => c.map((r) => r.key))).toEqual([['a'], ['big'], ['b']]);
  });

  it('string values count in bytes, not characters; nothing in, nothing out', () => {
    const wide = { key: 'k', value: 'é'.repeat(300), headers: {} };
    expect(boundedChunks([wide, wide], 1_000)).toHaveLength(2);
    expect(boundedChunks([], 1_000)).toEqual([]);
  });
});
