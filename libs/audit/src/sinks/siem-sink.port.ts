import type { AuditRecord } from './audit-record';

/**
 * A SIEM destination. Guarantees expected by the runner:
 * - `deliver` resolves only when the receiver accepted every record of the batch, in order; otherwise it rejects
 *   with a {@link SinkDeliveryError} saying whether to retry, alert, split or dead-letter (any other error is
 *   treated as retryable). A failed batch may have been partly received: the runner resends it, so a SIEM can see
 *   a record twice around a failure (at-least-once), never zero times.
 * - Batches are delivered one at a time; a sink need not be re-entrant.
 * - Secrets are resolved at send time and never appear in errors or logs.
 */
export interface SiemSink {
  readonly name: string;
  deliver(batch: readonly AuditRecord[]): Promise<void>;
  /** Releases connections. Safe to call twice. */
  close(): Promise<void>;
}
