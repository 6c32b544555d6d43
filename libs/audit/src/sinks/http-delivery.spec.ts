import { chunkItems, deliverChunks, retryAfterMs, type Chunk } from './http-delivery';
import { SinkDeliveryError } from './sink.errors';

const items = (...sizes: number[]) => sizes.map((n, i) => Buffer.from(String.fromCharCode(97 + i).repeat(n)));

describe('chunkItems', () => {
  it('packs items in order under the byte limit, counting separators and envelope', () => {
    const chunks = chunkItems(items(3, 3, 3, 3), { maxBytes: 9, maxItems: 100 }, '[', ',', ']');
    expect(chunks.map((c) => c.body.toString())).toEqual(['[aaa,bbb]', '[ccc,ddd]']);
    expect(chunks.map((c) => [c.start, c.end])).toEqual([[0, 2], [2, 4]]);
  });

  it('limits the number of items per chunk', () => {
    const chunks = chunkItems(items(1, 1, 1, 1, 1), { maxBytes: 1000, maxItems: 2 });
    expect(chunks.map((c) => c.body.toString())).toEqual(['a\nb', 'c\nd', 'e']);
  });

  it('marks an item over the item limit as its own oversize chunk, keeping neighbours in order', () => {
    const chunks = chunkItems(items(2, 50, 2), { maxBytes: 100, maxItems: 10, maxItemBytes: 10 });
    expect(chunks.map((c) => [c.start, c.end, !!c.oversize])).toEqual([[0, 1, false], [1, 2, true], [2, 3, false]]);
  });
});

describe('deliverChunks', () => {
  const chunks: Chunk[] = [
    { start: 0, end: 3, body: Buffer.from('x') },
    { start: 3, end: 4, body: Buffer.alloc(0), oversize: true },
    { start: 4, end: 6, body: Buffer.from('y') },
  ];

  it('reports the records delivered before an oversize one, and which record it is', async () => {
    const sent: number[] = [];
    const err = await deliverChunks(chunks, async (c) => void sent.push(c.start), 'the limit').catch((e: SinkDeliveryError) => e);
    expect(sent).toEqual([0]);
    expect(err).toMatchObject({ kind: 'too-large', delivered: 3, rejectedIndex: 3 });
  });

  it('shifts a later chunk failure to batch indexes', async () => {
    const err = await deliverChunks([chunks[0], chunks[2]], async (c) => {
      if (c.start === 4) throw new SinkDeliveryError('rejected', 'bad', { rejectedIndex: 1 });
    }, 'x').catch((e: SinkDeliveryError) => e);
    expect(err).toMatchObject({ kind: 'rejected', delivered: 4, rejectedIndex: 5 });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
