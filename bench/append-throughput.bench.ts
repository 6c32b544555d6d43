/**
 * Append throughput through the event store port versus raw INSERT of the same rows through `pg`, in the same
 * run on the same server. Both use the same concurrency and one event per append (the common command shape).
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { migrateEventStore, PostgresEventStore } from '@cmk/event-store';
import { benchDatabaseUrl, fmt, report, runConcurrently } from './bench-util';

const N = Number(process.env.CMK_BENCH_APPENDS ?? 20000);
const CONCURRENCY = 16;

const eventData = (i: number) => ({ tenantId: randomUUID(), displayName: `Tenant ${i}`, jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] });
const metadata = () => ({ actor: { subject: 'bench', roles: ['platform-operator'] }, commandId: randomUUID(), correlationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 });

async function main() {
  const url = benchDatabaseUrl();
  const schema = `bench_append_${randomUUID().slice(0, 8)}`;
  const pool = new Pool({ connectionString: url, max: CONCURRENCY + 2 });
  try {
    await migrateEventStore(pool, { schema, appRole: `${schema}_app` });
    const store = new PostgresEventStore(pool, { schema, appRole: `${schema}_app` });
    // Raw baseline table: the same columns and constraints a minimal event table needs.
    await pool.query(`CREATE TABLE "${schema}".raw_events (global_position bigserial PRIMARY KEY, stream_name text NOT NULL, revision bigint NOT NULL,
      event_id uuid NOT NULL UNIQUE, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_name, revision))`);

    // Warm up both paths.
    await runConcurrently(CONCURRENCY, 500, async (i) => {
      await store.append(`tenant-warm${i}`, [{ type: 'TenantOnboarded', data: eventData(i), metadata: metadata() }], { expectedRevision: 'no_stream' });
      await pool.query(`INSERT INTO "${schema}".raw_events (stream_name, revision, event_id, type, data, metadata) VALUES ($1, 0, $2, $3, $4, $5)`, [`tenant-warm${i}`, randomUUID(), 'TenantOnboarded', eventData(i), metadata()]);
    });

    const rawSeconds = await runConcurrently(CONCURRENCY, N, async (i) => {
      await pool.query(`INSERT INTO "${schema}".raw_events (stream_name, revision, event_id, type, data, metadata) VALUES ($1, 0, $2, $3, $4, $5)`, [`tenant-${i}`, randomUUID(), 'TenantOnboarded', eventData(i), metadata()]);
    });
    const portSeconds = await runConcurrently(CONCURRENCY, N, async (i) => {
      const m = metadata();
      await store.append(`tenant-${i}`, [{ type: 'TenantOnboarded', data: eventData(i), metadata: m }], { expectedRevision: 'no_stream', commandId: m.commandId });
    });
    const raw = N / rawSeconds;
    const port = N / portSeconds;
    report(`Event store append throughput (${N} single-event appends, ${CONCURRENCY} concurrent, expected revision + idempotency key)`, [
      ['through the port (PostgresEventStore.append) events/s', fmt(port)],
      ['baseline: raw INSERT of the same rows through pg, events/s', fmt(raw)],
      ['ratio port ÷ raw', fmt(port / raw, 2)],
      ['target', 'ratio >= 0.5'],
    ]);
    await store.close();
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
