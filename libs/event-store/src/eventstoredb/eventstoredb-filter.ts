import type { AllFilter } from '../event-store.port';

/** System streams and events ($-prefixed) are never project events. */
export function isSystem(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}

/** The port's filter (categories = stream name up to the first `-`, event types), applied on the client side. */
export function matchesFilter(streamName: string, type: string, filter: AllFilter | undefined): boolean {
  if (isSystem(streamName, type)) return false;
  if (filter?.categories) {
    const dash = streamName.indexOf('-');
    const category = dash < 0 ? streamName : streamName.slice(0, dash);
    if (!filter.categories.includes(category)) return false;
  }
  if (filter?.eventTypes && !filter.eventTypes.includes(type)) return false;
  return true;
}
