import type { Pool } from 'pg';
import type { NewEvent } from '../event-store.port';
import type { ContractSubject, HeldAppend } from './event-store.contract';
import { appendCallSql } from '../postgres/append-function.sql';
import { appendsJson } from '../postgres/append-batcher';
import { eventsJsonOf } from '../postgres/append-rows';
import { quoteIdentifier } from '../postgres/identifiers';
import { migrateEventStore } from '../postgres/migrations';
import { PostgresEventStore } from '../postgres/postgres-event-store.adapter';

/** Test fixture (not a spec): a migrated schema with a store on it, for the contract suite. */
export async function postgresContractSubject(pool: Pool, options: { schema: string; appRole?: string; notify: boolean }): Promise<ContractSubject> {
  await migrateEventStore(pool, options);
  const store = new PostgresEventStore(pool, options);
  return {
    store,
    densePositions: true,
    holdAppendOpen: (streamName, events) => holdAppendOpen(pool, options.schema, streamName, events),
    async cleanup() {
      await store.close();
      await dropEventStore(pool, options.schema, options.appRole);
    },
  };
}

/**
 * Runs the append function inside an explicit transaction and leaves it open: the events are written and the
 * append lock is held until `commit()`. On the embedded database this holds the process's only connection.
 */
export async function holdAppendOpen(pool: Pool, schema: string, streamName: string, events: NewEvent[]): Promise<HeldAppend> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const eventsJson = eventsJsonOf(streamName, events, undefined);
    await client.query(appendCallSql(schema), [appendsJson([{ streamName, expected: 'any', revision: null, commandId: null, eventsJson }]), false]);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    throw error;
  }
  return {
    async commit() {
      try {
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
  };
}

export async function dropEventStore(pool: Pool, schema: string, appRole?: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema, 'schema')} CASCADE`);
  if (appRole) await pool.query(`DROP ROLE IF EXISTS ${quoteIdentifier(appRole, 'role')}`);
}
