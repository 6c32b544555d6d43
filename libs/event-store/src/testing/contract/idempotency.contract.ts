import { randomUUID } from 'node:crypto';
import type { CurrentSubject } from './contract-subject';
import { freshCategory, someEvents, streamIn } from './support';

/**
 * Idempotency by command id. Decision: the command id alone identifies the append. A re-send returns the first
 * append's result (its events, position and the revision its last event got) whatever it carries now: other
 * events, another expected revision, even another stream. It never fails with a concurrency conflict because
 * the stream moved on since; the command already took effect, and saying so is the only honest answer.
 */
export function idempotencyContract(subject: CurrentSubject): void {
  describe('idempotency by command id', () => {
    it('returns the first result for a re-send and appends nothing', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const commandId = randomUUID();
      const first = await store.append(stream, someEvents(2), { expectedRevision: 'no_stream', commandId });
      const head = await store.headPosition();

      const again = await store.append(stream, someEvents(2), { expectedRevision: 'no_stream', commandId });

      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(true);
      expect(again.events).toEqual(first.events);
      expect(again.position).toBe(first.position);
      expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
      expect(await store.headPosition()).toBe(head);
      expect(await store.readStream(stream)).toEqual(first.events);
    });

    it('answers with the original revision after the stream moved on, instead of a conflict', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const commandId = randomUUID();
      const first = await store.append(stream, someEvents(2), { expectedRevision: 'no_stream', commandId });
      await store.append(stream, someEvents(3), { expectedRevision: 1 });

      const again = await store.append(stream, someEvents(2), { expectedRevision: 'no_stream', commandId });
      expect(again.duplicate).toBe(true);
      expect(again.nextExpectedRevision).toBe(1);
      expect(again.events.map((e) => e.revision)).toEqual([0, 1]);
      expect(await store.streamRevision(stream)).toBe(4);
    });

    it('returns the first result even when the re-send carries other events or targets another stream', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const commandId = randomUUID();
      const first = await store.append(stream, someEvents(3), { expectedRevision: 'no_stream', commandId });

      const otherEvents = await store.append(stream, [{ type: 'Different', data: { x: 1 } }], { expectedRevision: 'any', commandId });
      expect(otherEvents.duplicate).toBe(true);
      expect(otherEvents.events).toEqual(first.events);

      const otherStream = streamIn(freshCategory());
      const elsewhere = await store.append(otherStream, someEvents(1), { expectedRevision: 'no_stream', commandId });
      expect(elsewhere.duplicate).toBe(true);
      expect(elsewhere.events).toEqual(first.events);
      expect(await store.readStream(otherStream)).toEqual([]);
      expect(await store.readStream(stream)).toHaveLength(3);
    });

    it('derives the same event ids for the same command id, and different ones for different command ids', async () => {
      const { store } = subject();
      const a = await store.append(streamIn(freshCategory()), someEvents(2), { expectedRevision: 'no_stream', commandId: 'cmd-a' + randomUUID() });
      const b = await store.append(streamIn(freshCategory()), someEvents(2), { expectedRevision: 'no_stream', commandId: 'cmd-b' + randomUUID() });
      expect(new Set([...a.events, ...b.events].map((e) => e.id)).size).toBe(4);
    });

    it('lets exactly one of many simultaneous re-sends append', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const commandId = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.append(stream, someEvents(2), { expectedRevision: 'no_stream', commandId })),
      );
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      for (const r of results) expect(r.events).toEqual(results[0].events);
      expect(await store.readStream(stream)).toHaveLength(2);
    });

    it('appends again for a new command id', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await store.append(stream, someEvents(1), { expectedRevision: 'no_stream', commandId: randomUUID() });
      const second = await store.append(stream, someEvents(1), { expectedRevision: 0, commandId: randomUUID() });
      expect(second.duplicate).toBe(false);
      expect(second.nextExpectedRevision).toBe(1);
    });
  });
}
