import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore, Position, RecordedEvent, Subscription } from '@cmk/event-store';
import { Projection, qi } from './projection';
import { defaultProjections } from './projections';

export interface ProjectionRunnerOptions {
  schema: string;
  /** Identifies this process in the ownership lease. */
  instanceId: string;
  projections?: Projection[];
  /** The event store's table (schema-qualified, quoted) when it lives in this database; lets the audit index copy in SQL. */
  eventsTable?: string;
  batchSize?: number;
  /** Batch size for a projection running solo (rebuilding or recovering); default 4x batchSize. */
  rebuildBatchSize?: number;
  retryDelayMs?: number;
  leaseMs?: number;
  registry?: Registry;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void };
}

export interface ProjectionStatus {
  name: string;
  position: bigint;
  headPosition: bigint;
  lag: number;
  status: 'starting' | 'running' | 'failing' | 'standby' | 'rebuilding' | 'stopped';
  lastError?: string;
  rebuild?: { rebuildId: string; processed: number; total: number; done: boolean };
}

/** Raised inside a batch transaction when this instance does not own the projection (or lost the race). */
/** Another instance holds a projection (its lock, lease or checkpoint): this one may not apply or rebuild it now. */
export class ProjectionNotOwnedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionNotOwnedError';
  }
}
const NotOwner = ProjectionNotOwnedError;
type NotOwner = ProjectionNotOwnedError;

interface Slot {
  projection: Projection;
  /** `group`: applied with the others from one shared subscription, in one transaction per batch (the fast
   *  path). `solo`: its own subscription and transactions, after a failure or during a rebuild, so it can
   *  neither hold the others back nor be held back. */
  mode: 'group' | 'solo';
  position: bigint;
  status: ProjectionStatus['status'];
  lastError?: string;
  subscription?: Subscription;
  loop?: Promise<void>;
  stopping: boolean;
  rebuild?: { rebuildId: string; from: bigint; target: bigint; done: boolean };
}

/**
 * Runs each projection from its stored checkpoint. Every batch is one transaction that (1) takes the
 * projections' advisory lock and ownership lease, so exactly one instance applies a projection at any time,
 * (2) applies the events, (3) compare-and-sets the checkpoints. A failing handler rolls back rows and
 * checkpoint together; the runner reports `failing` and retries from the stored checkpoint with back-off.
 *
 * Healthy projections share one subscription and one transaction per batch (reading the log once and paying
 * one commit instead of one per projection). A projection that fails, or is being rebuilt, continues solo.
 */
export class ProjectionRunner {
  private readonly slots: Slot[];
  private readonly waiters = new Set<() => void>();
  private readonly lagHistogram: Histogram<string>;
  private readonly positionGauge: Gauge<string>;
  private readonly failures: Counter<string>;
  private running = false;
  private group: { subscription?: Subscription; loop?: Promise<void>; stopping: boolean } = { stopping: true };

  constructor(
    private readonly store: EventStore,
    private readonly dataSource: DataSource,
    private readonly options: ProjectionRunnerOptions,
  ) {
    this.slots = (options.projections ?? defaultProjections(options.eventsTable)).map((projection) => ({ projection, mode: 'group' as const, position: 0n, status: 'stopped' as const, stopping: false }));
    const registers = options.registry ? [options.registry] : [];
    this.lagHistogram = new Histogram({
      name: 'cmk_projection_lag_seconds',
      help: 'Time from an event being recorded to its projection committing it',
      labelNames: ['projection'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.positionGauge = new Gauge({ name: 'cmk_projection_position', help: 'Global position a projection has applied', labelNames: ['projection'], registers });
    this.failures = new Counter({ name: 'cmk_projection_failures_total', help: 'Failed projection batches', labelNames: ['projection'], registers });
  }

  private get table(): string {
    return `${qi(this.options.schema)}.projection_checkpoints`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const slot of this.slots) {
      await this.dataSource.query(`INSERT INTO ${this.table} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [slot.projection.name]);
      slot.mode = 'group';
      slot.status = 'starting';
    }
    this.launchGroup();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.haltGroup();
    await Promise.all(this.slots.map((s) => this.halt(s)));
    for (const s of this.slots) s.status = 'stopped';
  }

  /** True once every projection has applied the given position (read-your-writes); false after the timeout. */
  async waitForPosition(position: bigint, timeoutMs: number): Promise<boolean> {
    if (await this.reached(position)) return true;
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const poll = setInterval(() => void check(), 50);
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(ok);
      };
      // Progress by this instance wakes waiters at once; the poll covers projections owned by other instances.
      const check = async () => {
        if (!settled && (await this.reached(position).catch(() => false))) finish(true);
      };
      const wake = () => void check();
      this.waiters.add(wake);
    });
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    const stored = await this.storedPositions();
    return this.slots.map((s) => {
      const position = s.position > (stored.get(s.projection.name) ?? 0n) ? s.position : (stored.get(s.projection.name) ?? 0n);
      const r = s.rebuild;
      return {
        name: s.projection.name,
        position,
        headPosition: head,
        lag: Number(head > position ? head - position : 0n),
        status: s.status,
        ...(s.lastError ? { lastError: s.lastError } : {}),
        ...(r
          ? {
              rebuild: {
                rebuildId: r.rebuildId,
                processed: Number(position > r.from ? position - r.from : 0n),
                total: Number(r.target - r.from),
                done: r.done || position >= r.target,
              },
            }
          : {}),
      };
    });
  }

  /** Empties the projection's tables and replays it from the first event; progress shows in `status()`. */
  async rebuild(name: string): Promise<{ rebuildId: string }> {
    const slot = this.slots.find((s) => s.projection.name === name);
    if (!slot) throw new Error(`unknown projection ${name}`);
    // Pause the shared subscription so no batch is in flight for this projection, then let it go solo.
    const wasGrouped = slot.mode === 'group';
    if (wasGrouped) await this.haltGroup();
    await this.halt(slot);
    slot.mode = 'solo';
    if (wasGrouped && this.running) this.launchGroup();
    const target = await this.store.headPosition();
    await this.dataSource.transaction(async (tx) => {
      await this.takeOwnership(tx, [slot]);
      for (const t of slot.projection.tables) await tx.query(`DELETE FROM ${qi(this.options.schema)}.${qi(t)}`);
      await tx.query(`UPDATE ${this.table} SET position = 0, status = 'rebuilding', last_error = NULL, updated_at = now() WHERE name = $1`, [name]);
    });
    slot.position = 0n;
    const rebuildId = createHash('sha256').update(`${name}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 16);
    slot.rebuild = { rebuildId, from: 0n, target, done: target === 0n };
    if (this.running) this.launch(slot);
    return { rebuildId };
  }

  /**
   * Rebuilds every projection from the first event in one pass over the log: all are reset in one transaction
   * and replayed together by the shared subscription (one read of the log instead of one per projection).
   */
  async rebuildAll(): Promise<{ rebuildId: string }> {
    await this.haltGroup();
    for (const slot of this.slots) await this.halt(slot);
    const target = await this.store.headPosition();
    await this.dataSource.transaction(async (tx) => {
      await this.takeOwnership(tx, this.slots);
      for (const slot of this.slots) for (const t of slot.projection.tables) await tx.query(`DELETE FROM ${qi(this.options.schema)}.${qi(t)}`);
      await tx.query(`UPDATE ${this.table} SET position = 0, status = 'rebuilding', last_error = NULL, updated_at = now() WHERE name = ANY($1::text[])`, [
        this.slots.map((s) => s.projection.name),
      ]);
    });
    const rebuildId = createHash('sha256').update(`all:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 16);
    for (const slot of this.slots) {
      slot.position = 0n;
      slot.mode = 'group';
      slot.stopping = false;
      slot.rebuild = { rebuildId, from: 0n, target, done: target === 0n };
      slot.status = 'rebuilding';
    }
    if (this.running) this.launchGroup();
    return { rebuildId };
  }

  private launch(slot: Slot): void {
    slot.stopping = false;
    slot.status = slot.rebuild && !slot.rebuild.done ? 'rebuilding' : 'starting';
    slot.loop = this.loop(slot);
  }

  private async halt(slot: Slot): Promise<void> {
    slot.stopping = true;
    if (slot.mode === 'group') return; // the group batch skips it from now on (see groupMembers)
    await slot.subscription?.stop().catch(() => undefined);
    await slot.loop?.catch(() => undefined);
  }

  private groupMembers(): Slot[] {
    return this.slots.filter((s) => s.mode === 'group' && !s.stopping);
  }

  private launchGroup(): void {
    this.group = { stopping: false };
    const group = this.group;
    group.loop = this.groupLoop(group);
  }

  private async haltGroup(): Promise<void> {
    this.group.stopping = true;
    await this.group.subscription?.stop().catch(() => undefined);
    await this.group.loop?.catch(() => undefined);
  }

  private async groupLoop(group: { subscription?: Subscription; stopping: boolean }): Promise<void> {
    let delay = this.options.retryDelayMs ?? 250;
    while (!group.stopping) {
      try {
        const stored = await this.storedPositions();
        const members = this.groupMembers();
        if (members.length === 0) return;
        for (const m of members) m.position = stored.get(m.projection.name) ?? 0n;
        const from = members.reduce((min, m) => (m.position < min ? m.position : min), members[0].position);
        group.subscription = this.store.subscribeAll((events) => this.applyGroupBatch(events), { after: from, batchSize: this.options.batchSize ?? 1000 });
        await group.subscription.done;
        if (group.stopping) return;
      } catch (e) {
        if (group.stopping) return;
        if (e instanceof NotOwner) for (const m of this.groupMembers()) m.status = 'standby';
        else this.options.logger?.error({ error: e instanceof Error ? e.message : String(e) }, 'projection group stopped; resubscribing');
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** Fast path: every group member in one transaction. On a handler error, isolate the failing projection. */
  private async applyGroupBatch(events: RecordedEvent[]): Promise<void> {
    const members = this.groupMembers();
    if (events.length === 0 || members.length === 0) return;
    const last = events[events.length - 1].position;
    const due = members.filter((m) => m.position < last);
    if (due.length === 0) return;
    try {
      await this.dataSource.transaction((tx) => this.applyAllInTx(tx, due, events, last));
    } catch (e) {
      if (e instanceof NotOwner) throw e;
      // Find out which projection failed: each alone, so the healthy ones still move on.
      for (const m of due) {
        try {
          await this.dataSource.transaction((tx) => this.applyAllInTx(tx, [m], events, last));
        } catch (err) {
          if (err instanceof NotOwner) throw err;
          this.fail(m, err);
          m.mode = 'solo';
          if (this.running) this.launch(m);
          continue;
        }
        this.applied(m, events, last);
      }
      return;
    }
    for (const m of due) this.applied(m, events, last);
  }

  /**
   * Applies to each projection the events it has not seen yet and moves every checkpoint, inside one
   * transaction: ownership for all in one statement, the projections' own statements, one compare-and-set.
   */
  private async applyAllInTx(tx: EntityManager, slots: Slot[], events: RecordedEvent[], last: bigint): Promise<void> {
    const stored = await this.takeOwnership(tx, slots);
    for (const slot of slots)
      if (stored.get(slot.projection.name) !== slot.position)
        throw new NotOwner(`checkpoint of ${slot.projection.name} moved to ${stored.get(slot.projection.name)}`);
    for (const slot of slots) {
      const unseen = events.filter((e) => e.position > slot.position);
      if (unseen.length > 0) await slot.projection.applyBatch(unseen, tx, this.options.schema);
    }
    const moved = await tx.query(
      `UPDATE ${this.table} AS c SET position = $3, status = 'running', last_error = NULL, updated_at = now()
       FROM unnest($1::text[], $2::bigint[]) AS x(name, expected) WHERE c.name = x.name AND c.position = x.expected`,
      [slots.map((s) => s.projection.name), slots.map((s) => s.position.toString()), last.toString()],
    );
    if (affected(moved) !== slots.length) throw new NotOwner('checkpoint compare-and-set failed');
  }

  private fail(slot: Slot, e: unknown): void {
    slot.status = 'failing';
    slot.lastError = e instanceof Error ? e.message : String(e);
    this.failures.inc({ projection: slot.projection.name });
    void this.recordFailure(slot).catch(() => undefined);
    this.options.logger?.error({ projection: slot.projection.name, error: slot.lastError }, 'projection batch failed; retrying from the checkpoint');
  }

  /** After a commit: positions, statuses, metrics, and wake the read-your-writes waiters. */
  private applied(slot: Slot, events: RecordedEvent[], last: bigint): void {
    const unseen = events.filter((e) => e.position > slot.position);
    slot.position = last;
    slot.status = slot.rebuild && !slot.rebuild.done ? 'rebuilding' : 'running';
    if (slot.rebuild && last >= slot.rebuild.target) {
      slot.rebuild.done = true;
      slot.status = 'running';
    }
    slot.lastError = undefined;
    const now = Date.now();
    for (const e of unseen) this.lagHistogram.observe({ projection: slot.projection.name }, Math.max(0, now - e.recordedAt.getTime()) / 1000);
    this.positionGauge.set({ projection: slot.projection.name }, Number(last));
    for (const wake of this.waiters) wake();
  }

  private async loop(slot: Slot): Promise<void> {
    let delay = this.options.retryDelayMs ?? 250;
    while (!slot.stopping) {
      try {
        slot.position = (await this.storedPositions()).get(slot.projection.name) ?? 0n;
        slot.subscription = this.store.subscribeAll((events) => this.applyBatch(slot, events), {
          after: slot.position,
          // Solo projections are usually catching up (rebuild, recovery): larger batches amortise each commit.
          batchSize: this.options.rebuildBatchSize ?? (this.options.batchSize ?? 1000) * 4,
        });
        await slot.subscription.done;
        if (slot.stopping) return;
      } catch (e) {
        if (slot.stopping) return;
        if (e instanceof NotOwner) slot.status = 'standby';
        else this.fail(slot, e);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  private async applyBatch(slot: Slot, events: RecordedEvent[]): Promise<void> {
    if (events.length === 0 || slot.stopping) return;
    const last = events[events.length - 1].position;
    await this.dataSource.transaction((tx) => this.applyAllInTx(tx, [slot], events, last));
    this.applied(slot, events, last);
  }

  /**
   * Advisory lock plus lease for each projection, in one statement: returns their stored checkpoints, or throws
   * NotOwner when another instance holds any of them.
   */
  private async takeOwnership(tx: EntityManager, slots: Slot[]): Promise<Map<string, bigint>> {
    const names = slots.map((s) => s.projection.name);
    const rows = await tx.query(
      `UPDATE ${this.table} SET owner = $2, lease_until = now() + ($3 || ' milliseconds')::interval
       WHERE name = ANY($1::text[]) AND pg_try_advisory_xact_lock(hashtext($4 || name))
         AND (owner IS NULL OR owner = $2 OR lease_until < now())
       RETURNING name, position`,
      [names, this.options.instanceId, String(this.options.leaseMs ?? 15000), `cmk-projection:${this.options.schema}:`],
    );
    const list: { name: string; position: string }[] = Array.isArray(rows[0]) ? rows[0] : rows;
    if (list.length !== names.length) throw new NotOwner('another instance holds a projection lock or lease');
    return new Map(list.map((r) => [r.name, BigInt(r.position)]));
  }

  private async recordFailure(slot: Slot): Promise<void> {
    await this.dataSource.query(`UPDATE ${this.table} SET status = 'failing', last_error = $2, updated_at = now() WHERE name = $1`, [slot.projection.name, slot.lastError ?? null]);
  }

  private async storedPositions(): Promise<Map<string, bigint>> {
    const rows: { name: string; position: string }[] = await this.dataSource.query(`SELECT name, position FROM ${this.table}`);
    return new Map(rows.map((r) => [r.name, BigInt(r.position)]));
  }

  private async reached(position: bigint): Promise<boolean> {
    if (this.slots.every((s) => s.position >= position)) return true;
    const stored = await this.storedPositions();
    return this.slots.every((s) => (stored.get(s.projection.name) ?? 0n) >= position);
  }
}

function affected(result: unknown): number {
  // TypeORM returns [rows, count] for UPDATE on postgres.
  if (Array.isArray(result) && typeof result[1] === 'number') return result[1];
  return 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export type { Position };
