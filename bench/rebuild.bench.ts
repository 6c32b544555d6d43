/**
 * Read-model rebuild from 100,000 events: every projection rebuilt from the first event, timed until all report
 * done. Baseline in the same run: reading the same events through the port (readAll pages) without applying them.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { EventStore, migrateEventStore, NewEvent, PostgresEventStore } from '@cmk/event-store';
import { createReadModelDataSource, ProjectionRunner } from '@cmk/read-models';
import { benchDatabaseUrl, fmt, report } from './bench-util';

const TOTAL = Number(process.env.CMK_BENCH_EVENTS ?? 100_000);

/** A realistic mix: tenants with links, systems, updates, revocations and policy changes. */
async function seed(store: EventStore): Promise<number> {
  let written = 0;
  const meta = () => ({ actor: { subject: 'bench', roles: ['platform-operator'] }, correlationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 });
  const policyId = randomUUID();
  await store.append(`policy-${policyId}`, [{ type: 'PolicyDefined', data: { policyId, name: 'baseline', version: 1, document: { keyStrength: { minimumBits: { AES: 256 } } } }, metadata: meta() }], { expectedRevision: 'no_stream' });
  await store.append('policyscope-global', [{ type: 'PolicyAssigned', data: { scope: 'global', policyId, version: 'latest' }, metadata: meta() }], { expectedRevision: 'any' });
  written += 2;
  const pending: Promise<unknown>[] = [];
  while (written < TOTAL) {
    const tenantId = randomUUID();
    const keyLinkId = randomUUID();
    const tenantEvents: NewEvent[] = [
      { type: 'TenantOnboarded', data: { tenantId, displayName: `T ${written}`, jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] }, metadata: meta() },
      { type: 'TenantUpdated', data: { tenantId, changes: { displayName: `T ${written} GmbH` } }, metadata: meta() },
    ];
    const linkEvents: NewEvent[] = [
      { type: 'KeyLinked', data: { keyLinkId, tenantId, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=t;object=k', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' }, metadata: meta() },
      { type: 'KeyLinkActivated', data: { keyLinkId, tenantId }, metadata: meta() },
      { type: 'KeyLinkRevoked', data: { keyLinkId, tenantId, reason: 'bench', previousStatus: 'active' }, metadata: meta() },
      { type: 'KeyLinkRestored', data: { keyLinkId, tenantId, reason: 'bench', restoredStatus: 'active' }, metadata: meta() },
    ];
    const systemEvents: NewEvent[] = [0, 1].map(() => {
      const systemId = randomUUID();
      return { type: 'SystemRegistered', data: { systemId, tenantId, name: 'svc', region: 'eu-central-1', keyLinkId }, metadata: meta() };
    });
    pending.push(store.append(`tenant-${tenantId}`, tenantEvents, { expectedRevision: 'no_stream' }));
    pending.push(store.append(`keylink-${keyLinkId}`, linkEvents, { expectedRevision: 'no_stream' }));
    for (const e of systemEvents) pending.push(store.append(`system-${(e.data as { systemId: string }).systemId}`, [e], { expectedRevision: 'no_stream' }));
    written += 8;
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return written;
}

async function main() {
  const url = benchDatabaseUrl();
  const suffix = randomUUID().slice(0, 8);
  const es = `bench_rb_es_${suffix}`;
  const rm = `bench_rb_rm_${suffix}`;
  const pool = new Pool({ connectionString: url, max: 10 });
  await migrateEventStore(pool, { schema: es });
  const store = new PostgresEventStore(pool, { schema: es });
  const events = await seed(store);

  // Baseline: the same events read through the port, page by page, applied nowhere.
  let t = performance.now();
  let after = 0n;
  let read = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) break;
    read += page.length;
    after = page[page.length - 1].position;
  }
  const readSeconds = (performance.now() - t) / 1000;

  const dataSource = await createReadModelDataSource({ schema: rm, url, poolSize: 10 });
  const runner = new ProjectionRunner(store, dataSource, { schema: rm, instanceId: 'bench', eventsTable: `"${es}".events` });
  await runner.start();
  const head = await store.headPosition();
  if (!(await runner.waitForPosition(head, 600_000))) throw new Error('initial projection did not catch up');
  const names = (await runner.status()).map((s) => s.name);

  t = performance.now();
  await runner.rebuildAll();
  for (;;) {
    const status = await runner.status();
    if (status.every((s) => s.rebuild?.done && s.position >= head)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rebuildSeconds = (performance.now() - t) / 1000;
  await runner.stop();
  await dataSource.destroy();
  await store.close();
  await pool.end();

  report(`Read-model rebuild from ${fmt(events)} events (all ${names.length} projections in one pass: ${names.join(', ')}), PostgreSQL`, [
    ['rebuild of all projections, wall time s', fmt(rebuildSeconds, 2)],
    ['events/s (events ÷ wall time; every projection sees every event)', fmt(events / rebuildSeconds)],
    ['baseline: readAll through the port without applying, events/s', fmt(read / readSeconds)],
    ['ratio rebuild ÷ plain read', fmt(events / rebuildSeconds / (read / readSeconds), 2)],
    ['target', '>= 20,000 events/s'],
  ]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
