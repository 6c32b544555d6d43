import { START, type EventStore, type Position, type RecordedEvent } from './event-store.port';

const DEFAULT_PAGE_SIZE = 1_000;

/**
 * Every event after `after`, in global order, read page by page: how a live store is walked for verification or
 * export without holding the log in memory. Stops at the head it reaches; events appended meanwhile are included
 * as long as they arrive before the last page.
 */
export async function* eventsInGlobalOrder(
  store: Pick<EventStore, 'readAll'>,
  options: { after?: Position; pageSize?: number } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize <= 0) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  for (let after = options.after ?? START; ; ) {
    const page = await store.readAll({ after, maxCount: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1].position;
  }
}
