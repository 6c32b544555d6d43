import type { Pool } from 'pg';
import type { AuditRecord, AuditRecordSource, DeadLetter, DeadLetterStore, SinkCheckpointStore } from '@cmk/audit';
import type { EventStore, RecordedEvent } from '@cmk/event-store';

/** The event store as the sinks' source: every event, in global order, as an AuditRecord. */
export class EventStoreAuditSource implements AuditRecordSource {
  constructor(private readonly store: EventStore) {}

  async readFrom(afterPosition: string | null, limit: number): Promise<AuditRecord[]> {
    const events = await this.store.readAll({ after: afterPosition === null ? undefined : BigInt(afterPosition), maxCount: limit });
    return events.map(toAuditRecord);
  }

  async headPosition(): Promise<string | null> {
    const head = await this.store.headPosition();
    return head === 0n ? null : head.toString();
  }
}

export function toAuditRecord(e: RecordedEvent): AuditRecord {
  const occurred = e.metadata?.occurredAt;
  return {
    position: e.position.toString(),
    streamId: e.streamName,
    revision: e.revision,
    type: e.type,
    occurredAt: typeof occurred === 'string' ? occurred : e.recordedAt.toISOString(),
    data: (e.data ?? {}) as Record<string, unknown>,
    metadata: (e.metadata ?? {}) as AuditRecord['metadata'],
  };
}

/** Per-sink checkpoints and dead letters in PostgreSQL (the read models' schema), durable before they resolve. */
export class PostgresSinkStores implements SinkCheckpointStore, DeadLetterStore {
  constructor(private readonly pool: Pool, private readonly schema: string) {}

  async migrate(): Promise<void> {
    await this.pool.query(`
      CREATE TABLE IF NOT EXISTS "${this.schema}".siem_checkpoints (sink text PRIMARY KEY, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE IF NOT EXISTS "${this.schema}".siem_dead_letters (
        id bigserial PRIMARY KEY, sink text NOT NULL, position bigint NOT NULL, record jsonb NOT NULL, reason text NOT NULL, attempts int NOT NULL, at timestamptz NOT NULL);`);
  }

  async load(sink: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ position: string }>(`SELECT position FROM "${this.schema}".siem_checkpoints WHERE sink = $1`, [sink]);
    return rows[0]?.position ?? null;
  }

  async save(sink: string, position: string): Promise<void> {
    // Forward only: a slower runner of another instance can never move a checkpoint back.
    await this.pool.query(
      `INSERT INTO "${this.schema}".siem_checkpoints (sink, position) VALUES ($1, $2)
       ON CONFLICT (sink) DO UPDATE SET position = GREATEST(siem_checkpoints.position, EXCLUDED.position), updated_at = now()`,
      [sink, position],
    );
  }

  async put(letter: DeadLetter): Promise<void> {
    await this.pool.query(
      `INSERT INTO "${this.schema}".siem_dead_letters (sink, position, record, reason, attempts, at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [letter.sink, letter.record.position, JSON.stringify(letter.record), letter.reason, letter.attempts, letter.at],
    );
  }

  async deadLetters(limit = 100): Promise<{ sink: string; position: string; reason: string; attempts: number; at: string }[]> {
    const { rows } = await this.pool.query(`SELECT sink, position, reason, attempts, at FROM "${this.schema}".siem_dead_letters ORDER BY id DESC LIMIT $1`, [limit]);
    return rows.map((r) => ({ sink: r.sink, position: String(r.position), reason: r.reason, attempts: r.attempts, at: new Date(r.at).toISOString() }));
  }
}
