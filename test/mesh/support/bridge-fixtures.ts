import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { EventStore, migrateEventStore, PostgresEventStore, RecordedEvent } from '@cmk/event-store';
import { MESH_POSITION_HEADER, Mesh, MeshSubscription, ReceivedMessage } from '@cmk/mesh';
import { decodeMessage, foldAll, OrbitalMessage, TENANT_VIEW_CATEGORIES, TenantStateMessage, TenantView, tenantIdsOf, viewOf } from '@cmk/orbital';
import { freshSchemaName, testDatabaseUrl } from '@cmk/testing';

/** A migrated event store in a fresh schema of the real test PostgreSQL. */
export interface TestStore {
  store: EventStore;
  pool: Pool;
  schema: string;
  /** A second store on the same schema, as another process would open it. */
  reopen(): EventStore;
  close(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 6 });
  pool.on('error', () => undefined);
  const schema = freshSchemaName('mb');
  await migrateEventStore(pool, { schema });
  const opened: EventStore[] = [];
  const reopen = () => {
    const store = new PostgresEventStore(pool, { schema, notify: true, pollIntervalMs: 200 });
    opened.push(store);
    return store;
  };
  const store = reopen();
  return {
    store,
    pool,
    schema,
    reopen,
    async close() {
      await Promise.allSettled(opened.map((s) => s.close()));
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}

export const uniquePrefix = (label: string) => `t-${label}-${randomBytes(4).toString('hex')}.`;

/** Every governance event of the store, in order. */
export async function readGovernance(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let after = 0n; ; ) {
    const page = await store.readAll({ after, maxCount: 5000, filter: { categories: [...TENANT_VIEW_CATEGORIES] } });
    all.push(...page);
    if (page.length < 5000) return all;
    after = page[page.length - 1].position;
  }
}

/** The views a fresh fold of the whole store gives, per tenant. */
export async function freshViews(store: EventStore): Promise<Map<string, TenantView>> {
  const world = foldAll(await readGovernance(store));
  return new Map(tenantIdsOf(world).map((t) => [t, viewOf(world, t)!]));
}

/** A received Orbital message with its position header. */
export interface Seen {
  topic: string;
  key: string | null;
  position: bigint;
  message: OrbitalMessage;
}

/**
 * Reads topics from the beginning (a private subscription) and applies them as a worker would: per topic and
 * key it keeps the highest position applied and drops anything at or below it.
 */
export class TopicRecorder {
  readonly seen: Seen[] = [];
  /** Per topic, per key: the applied message with the highest position. */
  readonly applied = new Map<string, Map<string, Seen>>();
  duplicatesDropped = 0;
  readonly problems: string[] = [];
  private subscription: MeshSubscription | undefined;

  static async start(mesh: Mesh, topics: string[]): Promise<TopicRecorder> {
    const recorder = new TopicRecorder();
    recorder.subscription = await mesh.subscribe(topics, { fromBeginning: true }, async (m) => recorder.handle(m));
    return recorder;
  }

  handle(m: ReceivedMessage): void {
    const header = m.headers[MESH_POSITION_HEADER];
    let message: OrbitalMessage;
    try {
      message = decodeMessage(m.value);
    } catch (error) {
      this.problems.push(`${m.topic}@${m.offset}: ${(error as Error).message}`);
      return;
    }
    const position = header === undefined ? -1n : BigInt(header);
    if ('position' in message && message.kind !== 'heartbeat' && message.position !== header) {
      this.problems.push(`${m.topic}@${m.offset}: header ${header} but body position ${message.position}`);
    }
    const seen: Seen = { topic: m.topic, key: m.key, position, message };
    this.seen.push(seen);
    if (header === undefined || m.key === null) return;
    let byKey = this.applied.get(m.topic);
    if (!byKey) this.applied.set(m.topic, (byKey = new Map()));
    const current = byKey.get(m.key);
    if (current && current.position >= position) {
      this.duplicatesDropped++;
      return;
    }
    byKey.set(m.key, seen);
  }

  /** Latest applied tenant-state messages of a topic, by tenant. */
  states(topic: string): Map<string, TenantStateMessage> {
    const out = new Map<string, TenantStateMessage>();
    for (const [key, seen] of this.applied.get(topic) ?? []) out.set(key, seen.message as TenantStateMessage);
    return out;
  }

  /** Tenants a region topic currently serves (latest applied view not removed), with their views. */
  served(topic: string): Map<string, TenantView> {
    const out = new Map<string, TenantView>();
    for (const [tenantId, state] of this.states(topic)) if (!state.removed) out.set(tenantId, state.view);
    return out;
  }

  of<K extends OrbitalMessage['kind']>(topic: string, kind: K): (Seen & { message: Extract<OrbitalMessage, { kind: K }> })[] {
    return this.seen.filter((s) => s.topic === topic && s.message.kind === kind) as (Seen & { message: Extract<OrbitalMessage, { kind: K }> })[];
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const quietLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** Logs warnings and errors only when CMK_TEST_LOG_LEVEL asks for them (debugging a failing run). */
export const testLogger = process.env.CMK_TEST_LOG_LEVEL
  ? {
      error: (c: object, m: string) => console.error(m, c),
      warn: (c: object, m: string) => console.warn(m, c),
      info: (c: object, m: string) => console.info(m, c),
      debug: () => undefined,
    }
  : quietLogger;
