import { CanonicalJsonError } from '@cmk/audit/canonical-json';
import { verifyChains } from '@cmk/audit/chain-verifier';
import { auditFieldsOf, GENESIS_HASH, verifyStreamChain } from '@cmk/audit/hash-chain';
import type { CurrentSubject } from './contract-subject';
import { freshCategory, readEverythingAfter, someEvents, streamIn } from './support';

/**
 * The hash chain written at append (libs/audit/src/hash-chain.ts): every stored event verifies from the stored
 * events alone, each stream chains from the genesis hash on its own, and the link is made against the real
 * previous event, also for expectedRevision 'any' under concurrency.
 */
export function hashChainContract(subject: CurrentSubject): void {
  describe('hash chain', () => {
    it('chains every appended event to the one before it, from genesis, as read back and as returned', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      const first = await store.append(
        stream,
        [
          { type: 'Created', data: { name: 'ünïcødé ✓ 😀', n: [1, 2.5, -0, 1e21, 1e-7, null], nested: { z: true, a: { y: 'x' } } }, metadata: { correlationId: 'c', actor: { subject: 'alice', roles: ['r'] } } },
          { type: 'Noted', data: null },
        ],
        { expectedRevision: 'no_stream' },
      );
      const second = await store.append(stream, [{ type: 'Dated', data: { at: new Date(Date.UTC(2025, 0, 2)), skipped: undefined } }], { expectedRevision: 1 });
      await store.append(stream, someEvents(3), { expectedRevision: 'stream_exists' });

      const read = await store.readStream(stream);
      expect(read).toHaveLength(6);
      expect(verifyStreamChain(read)).toMatchObject({ ok: true, head: { revision: 5 } });
      expect(auditFieldsOf(read[0])!.prevHash).toBe(GENESIS_HASH);
      for (let i = 1; i < read.length; i++) expect(auditFieldsOf(read[i])!.prevHash).toBe(auditFieldsOf(read[i - 1])!.hash);
      expect([...first.events, ...second.events]).toEqual(read.slice(0, 3));
    });

    it('keeps one chain per stream, however appends to streams interleave', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const [a, b] = [streamIn(category), streamIn(category)];
      for (let i = 0; i < 4; i++) {
        await store.append(a, someEvents(1, 'A', i), { expectedRevision: i === 0 ? 'no_stream' : i - 1 });
        await store.append(b, someEvents(2, 'B', i), { expectedRevision: 'any' });
      }
      const log = await readEverythingAfter(store, head, [category]);
      expect(await verifyChains(log)).toEqual({ ok: true, eventsRead: 12, eventsVerified: 12, streams: 2 });
      expect(auditFieldsOf((await store.readStream(b))[0])!.prevHash).toBe(GENESIS_HASH);
    });

    it("links concurrent appends with 'any' to one stream against the event that really precedes each", async () => {
      const { store } = subject();
      const category = freshCategory();
      const stream = streamIn(category);
      const head = await store.headPosition();
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.append(stream, someEvents(1 + (i % 3), `W${i}`), { expectedRevision: 'any' })));
      const read = await store.readStream(stream);
      expect(read.map((e) => e.revision)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(verifyStreamChain(read)).toMatchObject({ ok: true, head: { revision: 59 } });
      expect(await verifyChains(await readEverythingAfter(store, head, [category]))).toMatchObject({ ok: true, eventsVerified: 60 });
    });

    it('chains what is stored: the JSON form of class instances, Dates and undefined members', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      class Contact {
        constructor(readonly email: string, readonly note?: string) {}
      }
      await store.append(stream, [{ type: 'X', data: { contacts: [new Contact('a@example.com')], at: new Date(0), gone: undefined } }], { expectedRevision: 'no_stream' });
      const read = await store.readStream(stream);
      expect(read[0].data).toEqual({ contacts: [{ email: 'a@example.com' }], at: '1970-01-01T00:00:00.000Z' });
      expect(verifyStreamChain(read)).toMatchObject({ ok: true });
    });

    it('refuses what the chain cannot cover, writing nothing: caller-set chain fields, values with no JSON or I-JSON form', async () => {
      const { store } = subject();
      const stream = streamIn(freshCategory());
      await expect(store.append(stream, [{ type: 'X', data: {}, metadata: { audit: { hash: 'mine' } } }], { expectedRevision: 'any' })).rejects.toThrow(
        'metadata.audit is reserved for the hash chain',
      );
      await expect(store.append(stream, [{ type: 'X', data: {}, metadata: [] as never }], { expectedRevision: 'any' })).rejects.toThrow('metadata must be a JSON object');
      await expect(store.append(stream, [{ type: 'X', data: { n: 1n } }], { expectedRevision: 'any' })).rejects.toThrow(TypeError);
      await expect(store.append(stream, [{ type: 'X', data: { s: 'lone \ud800' } }], { expectedRevision: 'any' })).rejects.toBeInstanceOf(CanonicalJsonError);
      expect(await store.readStream(stream)).toEqual([]);
    });
  });
}
