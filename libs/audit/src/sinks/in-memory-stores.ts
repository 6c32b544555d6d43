import { parsePosition, type AuditRecord } from './audit-record';
import type { AuditRecordSource, DeadLetter, DeadLetterStore, SinkCheckpointStore } from './sink-pipeline.port';

/**
 * In-memory source, checkpoint and dead-letter stores, for tests and for an embedded single-process run. The
 * control plane plugs the event store and PostgreSQL tables in their place.
 */
export class InMemoryAuditSource implements AuditRecordSource {
  private readonly records: AuditRecord[] = [];

  append(...records: AuditRecord[]): void {
    for (const r of records) {
      const last = this.records[this.records.length - 1];
      if (last && parsePosition(r.position) <= parsePosition(last.position)) {
        throw new RangeError(`position ${r.position} is not after ${last.position}`);
      }
      this.records.push(r);
    }
  }

  async readFrom(afterPosition: string | null, limit: number): Promise<AuditRecord[]> {
    const after = afterPosition === null ? -1n : parsePosition(afterPosition);
    const out: AuditRecord[] = [];
    for (const r of this.records) {
      if (out.length >= limit) break;
      if (parsePosition(r.position) > after) out.push(r);
    }
    return out;
  }

  async headPosition(): Promise<string | null> {
    return this.records.length ? this.records[this.records.length - 1].position : null;
  }
}

export class InMemoryCheckpointStore implements SinkCheckpointStore {
  private readonly positions = new Map<string, string>();
  /** Every save, in order, so tests can check the checkpoint never moved past an undelivered record. */
  readonly history: Array<{ sink: string; position: string }> = [];

  async load(sink: string): Promise<string | null> {
    return this.positions.get(sink) ?? null;
  }

  async save(sink: string, position: string): Promise<void> {
    const previous = this.positions.get(sink);
    if (previous !== undefined && parsePosition(position) < parsePosition(previous)) {
      throw new RangeError(`checkpoint of ${sink} cannot move back from ${previous} to ${position}`);
    }
    this.positions.set(sink, position);
    this.history.push({ sink, position });
  }
}

export class InMemoryDeadLetterStore implements DeadLetterStore {
  readonly letters: DeadLetter[] = [];

  async put(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }

  forSink(sink: string): DeadLetter[] {
    return this.letters.filter((l) => l.sink === sink);
  }
}
