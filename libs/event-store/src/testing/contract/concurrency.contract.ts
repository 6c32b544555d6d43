import { ConcurrencyError, RecordedEvent } from '../../event-store.port';
import type { CurrentSubject } from './contract-subject';
import { collect, eventually, expectStrictlyIncreasing, freshCategory, positionsOf, readEverythingAfter, sleep, someEvents, streamIn } from './support';

/** Writers racing on one stream, and readers that must never skip an event that commits late. */
export function concurrencyContract(subject: CurrentSubject, options: { lateCommit: boolean }): void {
  describe('concurrency', () => {
    it('of 50 appends expecting the same revision exactly one wins; the others get a ConcurrencyError', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await store.append(stream, someEvents(1), { expectedRevision: 'no_stream' });

      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => store.append(stream, someEvents(1, `Writer${i}`), { expectedRevision: 0 })));

      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(49);
      for (const error of lost) {
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect((error as ConcurrencyError).actual).toBe(1);
      }
      expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
    });

    it('50 writers that retry on conflict each land exactly once, with no gap or duplicate in revisions', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      let conflicts = 0;
      const winsPerRevision = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 50 }, async (_, writer) => {
          for (;;) {
            const revision = await store.streamRevision(stream);
            try {
              const result = await store.append(stream, [{ type: 'Written', data: { writer } }], { expectedRevision: revision === -1 ? 'no_stream' : revision });
              winsPerRevision.set(result.nextExpectedRevision, (winsPerRevision.get(result.nextExpectedRevision) ?? 0) + 1);
              return;
            } catch (error) {
              if (!(error instanceof ConcurrencyError)) throw error;
              conflicts++;
            }
          }
        }),
      );
      const events = await store.readStream(stream);
      expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(new Set(events.map((e) => (e.data as { writer: number }).writer)).size).toBe(50);
      expect([...winsPerRevision.values()].every((wins) => wins === 1)).toBe(true);
      expect(winsPerRevision.size).toBe(50);
      expect(conflicts).toBeGreaterThanOrEqual(0);
    });

    it('a live subscriber sees every event of concurrent appends exactly once, in global order', async () => {
      const { store, densePositions } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const sink = collect(store, { after: head, batchSize: 7, filter: { categories: [category] } });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(streamIn(category), someEvents(1 + (i % 3)), { expectedRevision: 'no_stream' })));
      const appended = results.flatMap((r) => r.events);
      const expected = await readEverythingAfter(store, head, [category]);
      expect(expected.map((e) => e.id).sort()).toEqual(appended.map((e) => e.id).sort());
      await eventually(() => expect(sink.events).toHaveLength(appended.length));
      await sleep(50);
      await sink.subscription.stop();
      expect(sink.events.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expectStrictlyIncreasing(positionsOf(sink.events));
      if (densePositions) expectDense(sink.events);
    });

    // Registered only for adapters that can hold an append open (the concurrent-subscriber test above covers
    // the others); an adapter that can must turn it on, and then it can never be skipped.
    if (options.lateCommit) it('never lets a reader skip an event whose append commits late', async () => {
      const { store, holdAppendOpen, densePositions } = subject();
      if (!holdAppendOpen) throw new Error('lateCommit is enabled but the subject has no holdAppendOpen');
      const category = freshCategory();
      const head = await store.headPosition();
      await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' });
      const sink = collect(store, { after: head, filter: { categories: [category] } });
      await eventually(() => expect(sink.events).toHaveLength(2));

      const lateStream = streamIn(category);
      const held = await holdAppendOpen(lateStream, someEvents(1, 'LateCommitted'));
      // While the late append is open: other appends and a reader start. None of them is awaited here, because on
      // a single-connection database they all queue behind the held transaction.
      const others = Array.from({ length: 10 }, () => store.append(streamIn(category), someEvents(1, 'Other'), { expectedRevision: 'no_stream' }));
      const readDuringHold = store.readAll({ after: head, filter: { categories: [category] } });
      await sleep(300);
      await held.commit();
      await Promise.all(others);

      const final = await readEverythingAfter(store, head, [category]);
      expect(final).toHaveLength(13);
      expectStrictlyIncreasing(positionsOf(final));
      // Whatever a reader saw at any moment is a prefix of the final order: nothing appears later below it.
      const seen = await readDuringHold;
      expect(final.slice(0, seen.length).map((e) => e.id)).toEqual(seen.map((e) => e.id));
      await eventually(() => expect(sink.events).toHaveLength(13));
      await sleep(50);
      await sink.subscription.stop();
      expect(sink.events.map((e) => e.id)).toEqual(final.map((e) => e.id));
      expect(sink.events.filter((e) => e.type === 'LateCommitted')).toHaveLength(1);
      if (densePositions) expectDense(sink.events);
    });
  });
}

/** Consecutive positions: what a reader observed has no hole that a late commit could fill afterwards. */
function expectDense(events: RecordedEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i].position - events[i - 1].position).toBe(1n);
}
