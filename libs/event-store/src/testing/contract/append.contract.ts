import { ConcurrencyError, EventMetadata } from '../../event-store.port';
import type { CurrentSubject } from './contract-subject';
import { concurrencyErrorOf, expectStrictlyIncreasing, freshCategory, positionsOf, someEvents, streamIn } from './support';

/** Appending and reading one stream back; expected revisions. */
export function appendContract(subject: CurrentSubject): void {
  describe('append and readStream', () => {
    it('appends events with consecutive revisions and reads them back forwards', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const metadata: EventMetadata = { actor: { subject: 'alice', roles: ['operator'] }, correlationId: 'c-1', custom: { nested: [1, 'two', null] } };
      const result = await store.append(
        stream,
        [
          { type: 'Created', data: { name: 'ünïcødé ✓', list: [1, 2.5, null, { deep: true }], empty: {} }, metadata },
          { type: 'Renamed', data: { name: 'b' } },
          { type: 'Noted', data: null },
        ],
        { expectedRevision: 'no_stream' },
      );

      expect(result.duplicate).toBe(false);
      expect(result.nextExpectedRevision).toBe(2);
      expect(result.events.map((e) => e.revision)).toEqual([0, 1, 2]);
      expectStrictlyIncreasing(positionsOf(result.events));
      expect(result.position).toBe(result.events[2].position);
      expect(new Set(result.events.map((e) => e.id)).size).toBe(3);

      const read = await store.readStream(stream);
      expect(read).toEqual(result.events);
      expect(read[0].streamName).toBe(stream);
      expect(read[0].data).toEqual({ name: 'ünïcødé ✓', list: [1, 2.5, null, { deep: true }], empty: {} });
      // Metadata is stored as given, nothing dropped; the only addition is the hash chain's reserved member.
      const { audit, ...given } = read[0].metadata;
      expect(given).toEqual(metadata);
      expect(audit).toEqual({ alg: 'sha256', prevHash: expect.stringMatching(/^0{64}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(Object.keys(read[1].metadata)).toEqual(['audit']);
      expect(read[2].data).toBeNull();
      expect(read[0].recordedAt).toBeInstanceOf(Date);
      expect(await store.streamRevision(stream)).toBe(2);
      expect(await store.headPosition()).toBeGreaterThanOrEqual(result.position);
    });

    it('reads backwards, from a revision, and at most maxCount events', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await store.append(stream, someEvents(5), { expectedRevision: 'no_stream' });
      const revisions = async (o: Parameters<typeof store.readStream>[1]) => (await store.readStream(stream, o)).map((e) => e.revision);

      expect(await revisions({ direction: 'backwards' })).toEqual([4, 3, 2, 1, 0]);
      expect(await revisions({ direction: 'backwards', fromRevision: 3, maxCount: 2 })).toEqual([3, 2]);
      expect(await revisions({ direction: 'forwards', fromRevision: 2, maxCount: 2 })).toEqual([2, 3]);
      expect(await revisions({ fromRevision: 4 })).toEqual([4]);
      expect(await revisions({ fromRevision: 5 })).toEqual([]);
      expect(await revisions({ maxCount: 0 })).toEqual([]);
      expect(await store.readStream(streamIn(freshCategory()))).toEqual([]);
    });

    it('reports -1 as the revision of a stream that does not exist', async () => {
      const { store } = subject();
      expect(await store.streamRevision(streamIn(freshCategory()))).toBe(-1);
    });

    it('refuses an empty append', async () => {
      const { store } = subject();
      await expect(store.append(streamIn(freshCategory()), [], { expectedRevision: 'any' })).rejects.toThrow();
    });
  });

  describe('expected revision', () => {
    it('no_stream: creates a stream, and conflicts with the actual revision once it exists', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await store.append(stream, someEvents(2), { expectedRevision: 'no_stream' });

      const error = await concurrencyErrorOf(store.append(stream, someEvents(1), { expectedRevision: 'no_stream' }));
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error.streamName).toBe(stream);
      expect(error.expected).toBe('no_stream');
      expect(error.actual).toBe(1);
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('a revision number: must equal the current revision', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await store.append(stream, someEvents(1), { expectedRevision: 'no_stream' });
      const next = await store.append(stream, someEvents(2, 'Tested', 1), { expectedRevision: 0 });
      expect(next.nextExpectedRevision).toBe(2);

      const stale = await concurrencyErrorOf(store.append(stream, someEvents(1), { expectedRevision: 0 }));
      expect(stale.actual).toBe(2);
      expect(stale.expected).toBe(0);
      const ahead = await concurrencyErrorOf(store.append(stream, someEvents(1), { expectedRevision: 7 }));
      expect(ahead.actual).toBe(2);
      const missing = streamIn(freshCategory());
      expect((await concurrencyErrorOf(store.append(missing, someEvents(1), { expectedRevision: 0 }))).actual).toBe(-1);
      expect(await store.streamRevision(stream)).toBe(2);
    });

    it('stream_exists: conflicts with -1 on a missing stream, appends to an existing one', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const error = await concurrencyErrorOf(store.append(stream, someEvents(1), { expectedRevision: 'stream_exists' }));
      expect(error.actual).toBe(-1);
      expect(await store.readStream(stream)).toEqual([]);

      await store.append(stream, someEvents(1), { expectedRevision: 'no_stream' });
      const result = await store.append(stream, someEvents(1), { expectedRevision: 'stream_exists' });
      expect(result.nextExpectedRevision).toBe(1);
    });

    it('any: appends whatever the state of the stream', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      expect((await store.append(stream, someEvents(1), { expectedRevision: 'any' })).nextExpectedRevision).toBe(0);
      expect((await store.append(stream, someEvents(2), { expectedRevision: 'any' })).nextExpectedRevision).toBe(2);
    });
  });

  describe('atomicity', () => {
    it('writes nothing when an append is refused', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const head = await store.headPosition();
      await expect(store.append(stream, [...someEvents(2), { type: '', data: {} }], { expectedRevision: 'any' })).rejects.toThrow();
      await concurrencyErrorOf(store.append(stream, someEvents(3), { expectedRevision: 'stream_exists' }));
      expect(await store.readStream(stream)).toEqual([]);
      expect(await store.headPosition()).toBe(head);
    });

    it('keeps the events of one append together in the global order, also under concurrency', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.append(streamIn(category), someEvents(5, `Batch${i}`), { expectedRevision: 'no_stream' })),
      );
      const all = await store.readAll({ after: head, filter: { categories: [category] } });
      expect(all).toHaveLength(100);
      expectStrictlyIncreasing(positionsOf(all));
      for (let i = 0; i < all.length; i += 5) {
        const chunk = all.slice(i, i + 5);
        expect(new Set(chunk.map((e) => e.streamName)).size).toBe(1);
        expect(chunk.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
      }
      for (const result of results) expect(result.events.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    });
  });
}
