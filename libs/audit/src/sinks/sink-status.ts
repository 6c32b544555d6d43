import type { SinkFailureKind } from './sink.errors';

/**
 * - `ok`: the last attempt succeeded (or nothing has failed yet).
 * - `retrying`: a transient failure (receiver busy or unreachable); the runner is backing off.
 * - `failing`: the sink needs attention: the receiver refused the credentials or the configuration, or transient
 *   failures went on for `failingAfterAttempts` attempts in a row. Health checks alert on this.
 */
export type SinkState = 'ok' | 'retrying' | 'failing';

export interface SinkLastError {
  kind: SinkFailureKind | 'checkpoint' | 'dead-letter' | 'source';
  message: string;
  status?: number;
  at: string;
}

/** A snapshot for metrics and health. Positions are decimal strings, like record positions. */
export interface SinkStatus {
  sink: string;
  state: SinkState;
  running: boolean;
  /** Checkpoint: every record up to here was delivered or dead-lettered. */
  lastDeliveredPosition: string | null;
  /** The newest position the runner has seen in the source. */
  headPosition: string | null;
  /** head - lastDelivered in positions (global positions may have gaps, so an upper bound of records behind). */
  lag: number | null;
  lastError: SinkLastError | null;
  consecutiveFailures: number;
  nextRetryAt: string | null;
  lastSuccessAt: string | null;
  deliveredRecords: number;
  deadLetteredRecords: number;
}
