import type { AuditRecord } from './audit-record';

/**
 * Where records come from: the event log in global position order. `readFrom` returns up to `limit` records with
 * position strictly greater than `afterPosition` ('0' style decimal strings; `null` means from the start), in
 * ascending position order, and never skips a record that commits later at a lower position (the event store's
 * reader guarantees that).
 */
export interface AuditRecordSource {
  readFrom(afterPosition: string | null, limit: number): Promise<AuditRecord[]>;
  /** The highest position written so far, if the source can tell (used for lag); `null` when empty. */
  headPosition?(): Promise<string | null>;
}

/** The last position each sink has finished with (delivered or dead-lettered). Saved only after delivery. */
export interface SinkCheckpointStore {
  load(sink: string): Promise<string | null>;
  save(sink: string, position: string): Promise<void>;
}

/** A record a sink permanently refused, kept for an operator to inspect and replay. */
export interface DeadLetter {
  sink: string;
  record: AuditRecord;
  reason: string;
  /** Delivery attempts that included this record. */
  attempts: number;
  at: string;
}

/** Must be durable before it resolves: the checkpoint moves past the record right after. */
export interface DeadLetterStore {
  put(letter: DeadLetter): Promise<void>;
}
