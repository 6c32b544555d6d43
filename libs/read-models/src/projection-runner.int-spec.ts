import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { EventStore, migrateEventStore, NewEvent, openDatabase, PostgresEventStore, RecordedEvent } from '@cmk/event-store';
import { freshSchemaName, testDatabaseUrl } from '@cmk/testing';
import { createReadModelDataSource } from './data-source';
import { Projection, qi } from './projection';
import { ProjectionRunner } from './projection-runner';
import { defaultProjections } from './projections';
import { ReadModelQueries } from './read-model.queries';

const meta = (subject = 'alice') => ({ actor: { subject, roles: ['platform-operator'] }, correlationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 });

async function seedTenant(store: EventStore, i = 0) {
  const tenantId = randomUUID();
  const keyLinkId = randomUUID();
  const systemId = randomUUID();
  await store.append(`tenant-${tenantId}`, [
    { type: 'TenantOnboarded', data: { tenantId, displayName: `T${i}`, jurisdiction: i % 2 ? 'US' : 'EU', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] }, metadata: meta() },
  ], { expectedRevision: 'no_stream' });
  await store.append(`keylink-${keyLinkId}`, [
    { type: 'KeyLinked', data: { keyLinkId, tenantId, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=a;object=b', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' }, metadata: meta() },
    { type: 'KeyLinkActivated', data: { keyLinkId, tenantId }, metadata: meta() },
  ], { expectedRevision: 'no_stream' });
  await store.append(`system-${systemId}`, [{ type: 'SystemRegistered', data: { systemId, tenantId, name: 's', region: 'eu-central-1', keyLinkId }, metadata: meta() }], { expectedRevision: 'no_stream' });
  return { tenantId, keyLinkId, systemId };
}

async function dump(ds: DataSource, schema: string, tables: string[]) {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await ds.query(`SELECT * FROM ${qi(schema)}.${qi(t)} ORDER BY 1, 2`);
  return out;
}

describe('projection runner on PostgreSQL', () => {
  let pool: Pool;
  let store: PostgresEventStore;
  let ds: DataSource;
  let rm: string;
  let es: string;
  const runners: ProjectionRunner[] = [];

  beforeEach(async () => {
    es = freshSchemaName('es');
    rm = freshSchemaName('rm');
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 10 });
    await migrateEventStore(pool, { schema: es });
    store = new PostgresEventStore(pool, { schema: es, notify: true });
    ds = await createReadModelDataSource({ schema: rm, url: testDatabaseUrl(), poolSize: 5 });
  });

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await ds.destroy();
    await store.close();
    await pool.end();
  });

  const runner = (opts: Partial<ConstructorParameters<typeof ProjectionRunner>[2]> = {}) => {
    const r = new ProjectionRunner(store, ds, { schema: rm, instanceId: randomUUID(), retryDelayMs: 50, ...opts });
    runners.push(r);
    return r;
  };

  it('builds the read models and answers queries after waitForPosition', async () => {
    const r = runner();
    await r.start();
    const { tenantId, keyLinkId } = await seedTenant(store);
    await store.append(`keylink-${keyLinkId}`, [{ type: 'KeyLinkRevoked', data: { keyLinkId, tenantId, reason: 'x', previousStatus: 'active' }, metadata: meta() }], { expectedRevision: 1 });
    expect(await r.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    const q = new ReadModelQueries(ds);
    expect(await q.getTenant(tenantId)).toMatchObject({ tenantId, status: 'active', revision: 0 });
    expect(await q.getKeyLink(keyLinkId)).toMatchObject({ status: 'revoked', revokedFrom: 'active', revocationReason: 'x', revision: 2 });
    expect(await q.activeKeyLinkIdsOfTenant(tenantId)).toEqual([]);
    const audit = await q.auditEvents({ tenantId });
    expect(audit.items.map((e) => e.type)).toEqual(['TenantOnboarded', 'KeyLinked', 'KeyLinkActivated', 'SystemRegistered', 'KeyLinkRevoked']);
  });

  it('waitForPosition times out (false) for a position that is never reached', async () => {
    const r = runner();
    await r.start();
    await seedTenant(store);
    const head = await store.headPosition();
    expect(await r.waitForPosition(head + 100n, 200)).toBe(false);
  });

  it('rolls back rows and checkpoint together when a handler fails, reports failing, and recovers', async () => {
    let broken = true;
    const applied: string[] = [];
    const flaky: Projection = {
      name: 'flaky',
      tables: ['flaky_rows'],
      handles: () => true,
      async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string) {
        for (const e of events) {
          await tx.query(`INSERT INTO ${qi(schema)}.flaky_rows (position) VALUES ($1)`, [e.position.toString()]);
          if (broken && e.type === 'KeyLinkActivated') throw new Error('cannot project KeyLinkActivated');
          applied.push(e.type);
        }
      },
    };
    await ds.query(`CREATE TABLE ${qi(rm)}.flaky_rows (position bigint PRIMARY KEY)`);
    const r = runner({ projections: [flaky], batchSize: 1 });
    await r.start();
    await seedTenant(store);
    await eventually(async () => expect((await r.status())[0].status).toBe('failing'));
    const [status] = await r.status();
    expect(status.lastError).toBe('cannot project KeyLinkActivated');
    const rows = await ds.query(`SELECT position FROM ${qi(rm)}.flaky_rows ORDER BY position`);
    const [cp] = await ds.query(`SELECT position, status, last_error FROM ${qi(rm)}.projection_checkpoints WHERE name = 'flaky'`);
    // Rows and checkpoint stopped together just before the failing event: the failing row was rolled back.
    expect(rows.map((x: { position: string }) => x.position)).toEqual(['1', '2']);
    expect(cp).toMatchObject({ position: '2', status: 'failing', last_error: 'cannot project KeyLinkActivated' });
    broken = false;
    expect(await r.waitForPosition(await store.headPosition(), 5000)).toBe(true);
    expect((await ds.query(`SELECT count(*)::int AS n FROM ${qi(rm)}.flaky_rows`))[0].n).toBe(4);
    expect((await r.status())[0].status).toBe('running');
  });

  it('rebuilds from zero to exactly the incremental result', async () => {
    const r = runner({ batchSize: 7 });
    await r.start();
    for (let i = 0; i < 30; i++) {
      const { tenantId, keyLinkId, systemId } = await seedTenant(store, i);
      if (i % 3 === 0) await store.append(`keylink-${keyLinkId}`, [{ type: 'KeyLinkRevoked', data: { keyLinkId, tenantId, reason: 'r', previousStatus: 'active' }, metadata: meta() }], { expectedRevision: 1 });
      if (i % 4 === 0) await store.append(`tenant-${tenantId}`, [{ type: 'TenantUpdated', data: { tenantId, changes: { displayName: `U${i}` } }, metadata: meta() }], { expectedRevision: 0 });
      if (i % 5 === 0) await store.append(`system-${systemId}`, [{ type: 'SystemDeregistered', data: { systemId, tenantId, reason: 'gone' }, metadata: meta() }], { expectedRevision: 0 });
    }
    const policyId = randomUUID();
    await store.append(`policy-${policyId}`, [
      { type: 'PolicyDefined', data: { policyId, name: 'p', version: 1, document: { keyStrength: { minimumBits: { AES: 256 } } } }, metadata: meta() },
      { type: 'PolicyRevised', data: { policyId, version: 2, document: { keyStrength: { minimumBits: { AES: 256, RSA: 3072 } } } }, metadata: meta() },
    ], { expectedRevision: 'no_stream' });
    await store.append('policyscope-global', [{ type: 'PolicyAssigned', data: { scope: 'global', policyId, version: 'latest' }, metadata: meta() }], { expectedRevision: 'no_stream' });
    const head = await store.headPosition();
    expect(await r.waitForPosition(head, 10000)).toBe(true);
    const tables = defaultProjections().flatMap((p) => p.tables);
    const incremental = await dump(ds, rm, tables);
    expect(incremental.tenants).toHaveLength(30);
    for (const p of defaultProjections()) await r.rebuild(p.name);
    await eventually(async () => {
      const status = await r.status();
      expect(status.every((s) => s.rebuild?.done && s.position === head)).toBe(true);
    });
    expect(await dump(ds, rm, tables)).toEqual(incremental);
    // And all at once, in one pass over the log.
    await r.rebuildAll();
    await eventually(async () => {
      const status = await r.status();
      expect(status.every((s) => s.rebuild?.done && s.position === head && s.status === 'running')).toBe(true);
    });
    expect(await dump(ds, rm, tables)).toEqual(incremental);
  });

  it('builds the same audit index by in-database copy as by the event payloads', async () => {
    const rm2 = freshSchemaName('rm');
    const ds2 = await createReadModelDataSource({ schema: rm2, url: testDatabaseUrl(), poolSize: 2 });
    try {
      const viaPayloads = runner();
      const viaSql = new ProjectionRunner(store, ds2, { schema: rm2, instanceId: 'sql', eventsTable: `"${es}".events` });
      runners.push(viaSql);
      await viaPayloads.start();
      await viaSql.start();
      const { tenantId } = await seedTenant(store);
      const policyId = randomUUID();
      await store.append(`policy-${policyId}`, [{ type: 'PolicyDefined', data: { policyId, name: 'p', version: 1, document: {} }, metadata: meta() }], { expectedRevision: 'no_stream' });
      await store.append(`policyscope-${tenantId}`, [{ type: 'PolicyAssigned', data: { scope: tenantId, policyId, version: 'latest' }, metadata: { actor: { subject: 'bob', roles: [] } } }], { expectedRevision: 'no_stream' });
      const head = await store.headPosition();
      expect(await viaPayloads.waitForPosition(head, 5000)).toBe(true);
      expect(await viaSql.waitForPosition(head, 5000)).toBe(true);
      const a = await dump(ds, rm, ['audit_index']);
      const b = await dump(ds2, rm2, ['audit_index']);
      expect(b.audit_index).toHaveLength(6);
      expect(b).toEqual(a);
      expect((b.audit_index as { tenant_id: string | null }[]).filter((r) => r.tenant_id === tenantId)).toHaveLength(5);
    } finally {
      await ds2.destroy();
    }
  });

  it('applies each event exactly once even with two runner instances on the same schema', async () => {
    const counting: () => Projection = () => ({
      name: 'counting',
      tables: ['applications'],
      handles: () => true,
      async applyBatch(events, tx, schema) {
        for (const e of events) await tx.query(`INSERT INTO ${qi(schema)}.applications (position) VALUES ($1)`, [e.position.toString()]);
      },
    });
    await ds.query(`CREATE TABLE ${qi(rm)}.applications (position bigint)`);
    const a = runner({ projections: [counting()], batchSize: 3, leaseMs: 500 });
    const b = runner({ projections: [counting()], batchSize: 3, leaseMs: 500 });
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 20; i++) await seedTenant(store, i);
    const head = await store.headPosition();
    expect(await a.waitForPosition(head, 10000)).toBe(true);
    await a.stop();
    for (let i = 0; i < 5; i++) await seedTenant(store, i);
    const head2 = await store.headPosition();
    // After the owner stops, the other instance takes over once the lease expires.
    expect(await b.waitForPosition(head2, 10000)).toBe(true);
    const [{ n, distinct }] = await ds.query(`SELECT count(*)::int AS n, count(DISTINCT position)::int AS distinct FROM ${qi(rm)}.applications`);
    expect(n).toBe(Number(head2));
    expect(distinct).toBe(n);
  });

  it('filters, scopes and paginates queries with stable cursors', async () => {
    const r = runner();
    await r.start();
    const ids: string[] = [];
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      const tenantId = randomUUID();
      ids.push(tenantId);
      const e: NewEvent = { type: 'TenantOnboarded', data: { tenantId, displayName: `T${i}`, jurisdiction: i < 100 ? 'EU' : 'US', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] }, metadata: meta() };
      appends.push(store.append(`tenant-${tenantId}`, [e], { expectedRevision: 'no_stream' }));
    }
    await Promise.all(appends);
    expect(await r.waitForPosition(await store.headPosition(), 10000)).toBe(true);
    const q = new ReadModelQueries(ds);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await q.listTenants({}, { limit: 50, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((t) => t.tenantId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([50, 50, 20]);
    expect(new Set(seen).size).toBe(120);
    expect((await q.listTenants({ jurisdiction: 'US' }, { limit: 500 })).items).toHaveLength(20);
    const scoped = await q.listTenants({}, { limit: 500 }, [ids[3], ids[7]]);
    expect(scoped.items.map((t) => t.tenantId).sort()).toEqual([ids[3], ids[7]].sort());
    expect((await q.listTenants({}, {}, [])).items).toEqual([]);
    await expect(q.listTenants({}, { cursor: 'garbage' })).rejects.toThrow('cursor is not valid');
  });
});

describe('projection runner on the embedded database (one shared connection)', () => {
  it('projects and queries over the single PGlite session', async () => {
    const db = await openDatabase({ kind: 'embedded', dataDir: 'memory://' });
    try {
      await migrateEventStore(db.pool, { schema: 'es', appRole: 'es_app' });
      const store = new PostgresEventStore(db.pool, { schema: 'es', appRole: 'es_app' });
      const ds = await createReadModelDataSource({ schema: 'rm', sharedPool: db.pool });
      const r = new ProjectionRunner(store, ds, { schema: 'rm', instanceId: 'embedded' });
      await r.start();
      const { tenantId, keyLinkId } = await seedTenant(store);
      expect(await r.waitForPosition(await store.headPosition(), 10000)).toBe(true);
      const q = new ReadModelQueries(ds);
      expect(await q.activeKeyLinkIdsOfTenant(tenantId)).toEqual([keyLinkId]);
      await r.rebuild('key-links');
      await eventually(async () => expect((await r.status()).find((s) => s.name === 'key-links')?.rebuild?.done).toBe(true));
      expect(await q.activeKeyLinkIdsOfTenant(tenantId)).toEqual([keyLinkId]);
      await r.stop();
      await ds.destroy();
      await store.close();
    } finally {
      await db.close();
    }
  });
});

async function eventually(check: () => Promise<void>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
