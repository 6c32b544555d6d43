import type { Pool } from 'pg';
import { appendFunctionDdl } from './append-function.sql';
import { migrationLockKey, quoteIdentifier } from './identifiers';
import { roleDdl, tablesDdl } from './schema.ddl';

export interface EventStoreSchemaOptions {
  schema: string;
  /** Role to create (NOLOGIN) and grant SELECT + INSERT only; the adapter switches to it for its statements. */
  appRole?: string;
}

/**
 * Creates or updates the event store schema. Idempotent, and safe to run from several processes at once: the
 * whole migration is one implicit transaction (one multi-statement message) that first takes a per-schema
 * advisory lock, so concurrent runs wait for each other and then find everything in place. A failure rolls the
 * whole migration back.
 */
export async function migrateEventStore(pool: Pool, options: EventStoreSchemaOptions): Promise<void> {
  quoteIdentifier(options.schema, 'schema');
  if (options.appRole) quoteIdentifier(options.appRole, 'role');
  const [k1, k2] = migrationLockKey(options.schema);
  const script = [
    `SELECT pg_advisory_xact_lock(${k1}, ${k2});`,
    tablesDdl(options.schema),
    appendFunctionDdl(options.schema),
    options.appRole ? roleDdl(options.schema, options.appRole) : '',
  ].join('\n');
  await pool.query(script);
}
