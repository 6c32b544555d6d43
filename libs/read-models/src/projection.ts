import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@cmk/event-store';
import { parseStreamName } from '@cmk/domain';

/**
 * A projection applies a batch of events to its own tables inside the runner's transaction (which also moves
 * its checkpoint). It must be deterministic, so a rebuild equals the incremental result: timestamps come from
 * the events, never from the clock.
 */
export interface Projection {
  readonly name: string;
  /** Tables this projection owns; a rebuild empties them. */
  readonly tables: string[];
  handles(eventType: string): boolean;
  applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void>;
}

export type Row = Record<string, unknown>;

/** When the fact happened: the command's time from metadata, else when it was recorded. */
export function eventTime(e: RecordedEvent): string {
  const occurred = e.metadata?.occurredAt;
  return typeof occurred === 'string' ? occurred : e.recordedAt.toISOString();
}

export const qi = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Projections whose rows are one per aggregate: a batch loads the rows it touches with one query, folds the
 * events in memory and writes the changed rows back with one upsert, so a batch costs two statements whatever
 * its size (what makes a rebuild fast).
 */
export abstract class RowFoldProjection implements Projection {
  abstract readonly name: string;
  abstract readonly table: string;
  abstract readonly key: string;
  protected abstract readonly eventTypes: readonly string[];
  protected abstract evolveRow(row: Row | undefined, e: RecordedEvent): Row | undefined;

  /** The row's key: the aggregate's id, from its stream name. */
  protected idOf(e: RecordedEvent): string {
    return parseStreamName(e.streamName).id;
  }

  /** Every event bumps the row's revision and update time; the subclass says what else changes. */
  protected evolve(row: Row | undefined, e: RecordedEvent): Row | undefined {
    return this.evolveRow(row ? { ...row, revision: e.revision, updated_at: eventTime(e) } : undefined, e);
  }


  get tables(): string[] {
    return [this.table];
  }

  handles(eventType: string): boolean {
    return this.eventTypes.includes(eventType);
  }

  async applyBatch(events: RecordedEvent[], tx: EntityManager, schema: string): Promise<void> {
    const relevant = events.filter((e) => this.handles(e.type));
    if (relevant.length === 0) return;
    const table = `${qi(schema)}.${qi(this.table)}`;
    const ids = [...new Set(relevant.map((e) => this.idOf(e)))];
    const existing: Row[] = await tx.query(`SELECT * FROM ${table} WHERE ${qi(this.key)} = ANY($1)`, [ids]);
    const rows = new Map<string, Row>(existing.map((r) => [String(r[this.key]), r]));
    const changed = new Set<string>();
    for (const e of relevant) {
      const id = this.idOf(e);
      const next = this.evolve(rows.get(id), e);
      if (next) {
        rows.set(id, next);
        changed.add(id);
      }
    }
    if (changed.size === 0) return;
    const payload = [...changed].map((id) => rows.get(id));
    const columns = Object.keys(payload[0]!);
    await tx.query(
      `INSERT INTO ${table} (${columns.map(qi).join(', ')})
       SELECT ${columns.map(qi).join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)
       ON CONFLICT (${qi(this.key)}) DO UPDATE SET ${columns.filter((c) => c !== this.key).map((c) => `${qi(c)} = EXCLUDED.${qi(c)}`).join(', ')}`,
      [JSON.stringify(payload)],
    );
  }
}
