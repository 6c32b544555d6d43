import type { CurrentSubject } from './contract-subject';
import { expectStrictlyIncreasing, freshCategory, positionsOf, sleep, someEvents, streamIn } from './support';

/** The global log: order, exclusive `after`, paging, filters and time travel. */
export function readAllContract(subject: CurrentSubject): void {
  describe('readAll', () => {
    it('returns events of all streams in global order after an exclusive position, in pages', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const a = streamIn(category);
      const b = streamIn(category);
      const appended = [
        ...(await store.append(a, someEvents(2), { expectedRevision: 'no_stream' })).events,
        ...(await store.append(b, someEvents(1), { expectedRevision: 'no_stream' })).events,
        ...(await store.append(a, someEvents(2, 'Tested', 2), { expectedRevision: 1 })).events,
      ];

      const all = await store.readAll({ after: head });
      expect(all.map((e) => e.id)).toEqual(appended.map((e) => e.id));
      expectStrictlyIncreasing(positionsOf(all));
      expect(all).toEqual(appended);

      const firstPage = await store.readAll({ after: head, maxCount: 2 });
      const secondPage = await store.readAll({ after: firstPage[1].position, maxCount: 2 });
      expect([...firstPage, ...secondPage].map((e) => e.id)).toEqual(appended.slice(0, 4).map((e) => e.id));
      expect(await store.readAll({ after: appended[4].position })).toEqual([]);
      expect(await store.headPosition()).toBe(appended[4].position);
    });

    it('filters by category (the stream name up to the first "-") and by event type', async () => {
      const { store } = subject();
      const head = await store.headPosition();
      const tenants = freshCategory('tenant');
      const keys = freshCategory('keylink');
      const tenant = `${tenants}-${'0f'.repeat(4)}-with-dashes`;
      await store.append(tenant, [{ type: 'TenantOnboarded', data: {} }, { type: 'TenantRenamed', data: {} }], { expectedRevision: 'no_stream' });
      await store.append(streamIn(keys), [{ type: 'KeyLinked', data: {} }], { expectedRevision: 'no_stream' });
      await store.append(streamIn(tenants), [{ type: 'TenantOnboarded', data: {} }], { expectedRevision: 'no_stream' });

      const byCategory = await store.readAll({ after: head, filter: { categories: [tenants] } });
      expect(byCategory.map((e) => e.type)).toEqual(['TenantOnboarded', 'TenantRenamed', 'TenantOnboarded']);
      expect(byCategory[0].streamName).toBe(tenant);

      const both = await store.readAll({ after: head, filter: { categories: [tenants, keys] } });
      expect(both).toHaveLength(4);

      const byType = await store.readAll({ after: head, filter: { eventTypes: ['TenantOnboarded', 'KeyLinked'] } });
      expect(byType.map((e) => e.type)).toEqual(['TenantOnboarded', 'KeyLinked', 'TenantOnboarded']);

      const combined = await store.readAll({ after: head, filter: { categories: [tenants], eventTypes: ['TenantRenamed'] } });
      expect(combined.map((e) => e.type)).toEqual(['TenantRenamed']);

      expect(await store.readAll({ after: head, filter: { categories: [] } })).toEqual([]);
      expect(await store.readAll({ after: head, maxCount: 1, filter: { categories: [tenants] } })).toHaveLength(1);
    });

    it('time-travels with `until`: events recorded at or before that instant, including one recorded exactly then', async () => {
      const { store } = subject();
      const category = freshCategory();
      const head = await store.headPosition();
      const early = await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' });
      await sleep(20);
      await store.append(streamIn(category), someEvents(2), { expectedRevision: 'no_stream' });

      const asOf = early.events[1].recordedAt;
      const past = await store.readAll({ after: head, until: asOf, filter: { categories: [category] } });
      expect(past.map((e) => e.id)).toEqual(early.events.map((e) => e.id));
      expect(await store.readAll({ after: head, until: new Date(asOf.getTime() - 60_000), filter: { categories: [category] } })).toEqual([]);
      expect(await store.readAll({ after: head, until: new Date(Date.now() + 60_000), filter: { categories: [category] } })).toHaveLength(4);
    });
  });
}
