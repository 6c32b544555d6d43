export { EventStoreDbEventStore } from './eventstoredb-event-store.adapter';
export type { EventStoreDbEventStoreOptions } from './eventstoredb-event-store.adapter';
export { EventStoreDbConfigError, parseEventStoreDbConnection } from './eventstoredb-config';
export type { EventStoreDbConnection } from './eventstoredb-config';
export { AuditStreamProtectedError } from './audit-stream-guard';
export { UnsupportedPositionError } from './eventstoredb-positions';
