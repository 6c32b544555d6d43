/**
 * How a sink failed, which decides what the runner does next:
 * - `retryable`: the receiver is busy or unreachable (503, 429, 5xx, connection refused, timeout). Back off, resend.
 * - `failing`: the sink cannot work until someone acts (401/403 token, unknown index, wrong URL). Back off, resend,
 *   and report the sink as failing so health checks alert.
 * - `rejected`: the receiver permanently refuses this content (400). Split the batch; a single refused record is
 *   dead-lettered.
 * - `too-large`: the request was over the receiver's size limit (413). Split; a single record still too large is
 *   dead-lettered.
 */
export type SinkFailureKind = 'retryable' | 'failing' | 'rejected' | 'too-large';

export interface SinkDeliveryErrorDetails {
  /** HTTP status or protocol code when there is one; never a response body that could echo a credential. */
  status?: number;
  /** The receiver's own error code (Splunk HEC `code`). */
  code?: number;
  /** Records [0, delivered) of the batch were accepted before the failure; the runner checkpoints them. */
  delivered?: number;
  /** Index in the batch of the record the receiver named as the bad one (Splunk `invalid-event-number`). */
  rejectedIndex?: number;
  /** The receiver asked to wait this long (Retry-After); the runner waits at least this. */
  retryAfterMs?: number;
}

/** A failed delivery. The message names the sink and the cause; it never carries tokens, keys or record content. */
export class SinkDeliveryError extends Error {
  override readonly name = 'SinkDeliveryError';
  readonly status?: number;
  readonly code?: number;
  readonly delivered: number;
  readonly rejectedIndex?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly kind: SinkFailureKind,
    message: string,
    details: SinkDeliveryErrorDetails = {},
  ) {
    super(message);
    this.status = details.status;
    this.code = details.code;
    this.delivered = details.delivered ?? 0;
    this.rejectedIndex = details.rejectedIndex;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** The same failure seen from a later slice of the batch (after `offset` records were already delivered). */
  shifted(offset: number): SinkDeliveryError {
    return new SinkDeliveryError(this.kind, this.message, {
      status: this.status,
      code: this.code,
      delivered: this.delivered + offset,
      rejectedIndex: this.rejectedIndex === undefined ? undefined : this.rejectedIndex + offset,
      retryAfterMs: this.retryAfterMs,
    });
  }
}

/** A sink setting is missing or wrong. `field` is the full path, e.g. `CMK_SIEM_SINKS[1].url`. */
export class SinkConfigError extends Error {
  override readonly name = 'SinkConfigError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** A secret reference could not be resolved. Names the reference (env:NAME, file:/path), never a value. */
export class SecretResolutionError extends Error {
  override readonly name = 'SecretResolutionError';
  constructor(
    readonly ref: string,
    problem: string,
  ) {
    super(`secret ${ref} ${problem}`);
  }
}
