export * from './event-store.port';
export { deriveEventId } from './event-id';
export { appendDigest } from './audit-chain';
export { eventsInGlobalOrder } from './read-all-events';

export { openDatabase } from './postgres/database';
export type { Database, DatabaseConfig } from './postgres/database';
export { typeormDriverFor } from './postgres/typeorm-driver';
export { migrateEventStore } from './postgres/migrations';
export type { EventStoreSchemaOptions } from './postgres/migrations';
export { PostgresEventStore } from './postgres/postgres-event-store.adapter';
export type { PostgresEventStoreOptions } from './postgres/postgres-event-store.adapter';
export { casCheckpoint, compareAndSetCheckpointSql, readCheckpoint, readCheckpointSql } from './postgres/checkpoints';
export type { Queryable } from './postgres/checkpoints';

// The contract suite is test code: scripts/build.sh leaves `testing/` out of dist, so it cannot be exported from
// here (the app would fail to load it). Import it from '@cmk/event-store/testing'.
export type { ContractFactory, ContractOptions, ContractSubject, HeldAppend } from './testing/event-store.contract';

// Only the connection-string check here: the adapter (and the gRPC client it loads) comes from
// '@cmk/event-store/eventstoredb', imported lazily by whoever runs on EventStoreDB.
export { EventStoreDbConfigError, parseEventStoreDbConnection } from './eventstoredb/eventstoredb-config';
export type { EventStoreDbConnection } from './eventstoredb/eventstoredb-config';
