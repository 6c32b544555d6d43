import type { RecordedEvent } from '../../event-store.port';
import type { CurrentSubject } from './contract-subject';
import { collect, eventually, expectStrictlyIncreasing, freshCategory, positionsOf, sleep, someEvents, streamIn } from './support';

/** subscribeAll: catch-up then live, resume, filters, failure and stop. */
export function subscriptionContract(subject: CurrentSubject): void {
  describe('subscribeAll', () => {
    it('catches up in batches, then delivers live appends, in order and without duplicates', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const before: RecordedEvent[] = [];
      for (let i = 0; i < 5; i++) before.push(...(await store.append(streamIn(category), someEvents(1), { expectedRevision: 'no_stream' })).events);

      const sink = collect(store, { after: head, batchSize: 2, filter: { categories: [category] } });
      await eventually(() => expect(sink.events).toHaveLength(5));
      expect(Math.max(...sink.batchSizes)).toBeLessThanOrEqual(2);

      const live: RecordedEvent[] = [];
      for (let i = 0; i < 3; i++) live.push(...(await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' })).events);
      await eventually(() => expect(sink.events).toHaveLength(11));
      await sleep(50);

      expect(sink.events.map((e) => e.id)).toEqual([...before, ...live].map((e) => e.id));
      expectStrictlyIncreasing(positionsOf(sink.events));
      expect(sink.subscription.position).toBe(live[live.length - 1].position);
      await sink.subscription.stop();
      await expect(sink.subscription.done).resolves.toBeUndefined();
    });

    it('resumes after a checkpoint with exactly the events that came later', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      await store.append(streamIn(category), someEvents(3), { expectedRevision: 'no_stream' });

      const first = collect(store, { after: head, filter: { categories: [category] } });
      await eventually(() => expect(first.events).toHaveLength(3));
      await first.subscription.stop();
      const checkpoint = first.subscription.position;
      expect(checkpoint).toBe(first.events[2].position);

      const later = await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' });
      const resumed = collect(store, { after: checkpoint, filter: { categories: [category] } });
      await eventually(() => expect(resumed.events).toHaveLength(2));
      await sleep(50);
      expect(resumed.events.map((e) => e.id)).toEqual(later.events.map((e) => e.id));
      await resumed.subscription.stop();
    });

    it('delivers only events matching the filter', async () => {
      const { store } = subject();
      const wanted = freshCategory();
      const other = freshCategory();
      const head = await store.headPosition();
      const sink = collect(store, { after: head, filter: { categories: [wanted], eventTypes: ['Kept'] } });
      await store.append(streamIn(other), [{ type: 'Kept', data: {} }], { expectedRevision: 'any' });
      const kept = await store.append(streamIn(wanted), [{ type: 'Kept', data: {} }, { type: 'Dropped', data: {} }, { type: 'Kept', data: { n: 2 } }], { expectedRevision: 'any' });
      await eventually(() => expect(sink.events).toHaveLength(2));
      await sleep(50);
      expect(sink.events.map((e) => e.id)).toEqual([kept.events[0].id, kept.events[2].id]);
      await sink.subscription.stop();
    });

    it('stops on a handler error: `done` rejects with it and nothing more is delivered', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' });
      const failure = new Error('projection failed');
      let calls = 0;
      const subscription = store.subscribeAll(
        async () => {
          calls++;
          throw failure;
        },
        { after: head, filter: { categories: [category] } },
      );
      await expect(subscription.done).rejects.toBe(failure);
      expect(subscription.position).toBe(head);
      await store.append(streamIn(category), someEvents(1), { expectedRevision: 'no_stream' });
      await sleep(200);
      expect(calls).toBe(1);
      await expect(subscription.stop()).resolves.toBeUndefined();
    });

    it('stop() resolves cleanly, resolves `done`, and ends deliveries', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const sink = collect(store, { after: head, filter: { categories: [category] } });
      await store.append(streamIn(category), someEvents(1), { expectedRevision: 'no_stream' });
      await eventually(() => expect(sink.events).toHaveLength(1));

      await expect(sink.subscription.stop()).resolves.toBeUndefined();
      await expect(sink.subscription.done).resolves.toBeUndefined();
      await store.append(streamIn(category), someEvents(1), { expectedRevision: 'no_stream' });
      await sleep(200);
      expect(sink.events).toHaveLength(1);
      await expect(sink.subscription.stop()).resolves.toBeUndefined();
    });

    it('waits for a running handler before stop() resolves', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      await store.append(streamIn(category), someEvents(1), { expectedRevision: 'no_stream' });
      let entered!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      let finished = false;
      const subscription = store.subscribeAll(
        async () => {
          entered();
          await sleep(100);
          finished = true;
        },
        { after: head, filter: { categories: [category] } },
      );
      await inHandler;
      await subscription.stop();
      expect(finished).toBe(true);
    });
  });
}
