import { parsePosition, type AuditRecord } from './audit-record';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
import type { SiemSink } from './siem-sink.port';
import type { AuditRecordSource, DeadLetterStore, SinkCheckpointStore } from './sink-pipeline.port';
import { SinkDeliveryError } from './sink.errors';
import { silentSinkLogger, type SinkLogger } from './sink.logger';
import type { SinkLastError, SinkState, SinkStatus } from './sink-status';

export interface SinkRunnerOptions {
  batchSize?: number;
  /** How long to wait before polling the source again once caught up (`notify()` wakes it earlier). */
  pollIntervalMs?: number;
  backoff?: BackoffPolicy;
  /** Transient failures in a row after which the sink is reported `failing`. */
  failingAfterAttempts?: number;
  logger?: SinkLogger;
  random?: () => number;
  now?: () => Date;
}

export interface SinkRunnerPorts {
  sink: SiemSink;
  source: AuditRecordSource;
  checkpoints: SinkCheckpointStore;
  deadLetters: DeadLetterStore;
}

type Failure = { kind: SinkLastError['kind']; message: string; status?: number; retryAfterMs?: number };

/**
 * Moves records from the source to one sink, at least once and in order. The checkpoint is saved only after the
 * sink accepted (or the dead-letter store took) every record up to it, so a crash or an outage can resend records
 * but never skip one. A record the sink permanently refuses is narrowed down by splitting the batch, dead-lettered
 * on its own, and the records after it go on. Each sink gets its own runner, so a sink that is down delays only
 * itself.
 */
export class SinkRunner {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly failingAfter: number;
  private readonly log: SinkLogger;
  private readonly random: () => number;
  private readonly now: () => Date;

  private position: string | null = null;
  private head: string | null = null;
  private state: SinkState = 'ok';
  private lastError: SinkLastError | null = null;
  private consecutiveFailures = 0;
  private nextRetryAt: string | null = null;
  private lastSuccessAt: string | null = null;
  private delivered = 0;
  private deadLettered = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly ports: SinkRunnerPorts,
    options: SinkRunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.failingAfter = options.failingAfterAttempts ?? 8;
    this.log = options.logger ?? silentSinkLogger;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  }

  get sinkName(): string {
    return this.ports.sink.name;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run().catch((e) => {
      // run() handles every failure itself; reaching here is a bug, so make it visible rather than silent.
      this.log.error({ sink: this.sinkName, err: describe(e) }, 'SIEM sink runner stopped unexpectedly');
    });
  }

  /** Wakes an idle runner (new events were appended); back-off waits are not cut short. */
  notify(): void {
    this.wake?.();
  }

  /** Stops after the delivery in progress and closes the sink. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    await this.ports.sink.close();
  }

  status(): SinkStatus {
    let lag: number | null = null;
    if (this.head !== null) lag = Number(parsePosition(this.head) - (this.position === null ? 0n : parsePosition(this.position)));
    return {
      sink: this.sinkName,
      state: this.state,
      running: this.loop !== null && !this.stopping,
      lastDeliveredPosition: this.position,
      headPosition: this.head,
      lag: lag === null ? null : Math.max(0, lag),
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      nextRetryAt: this.nextRetryAt,
      lastSuccessAt: this.lastSuccessAt,
      deliveredRecords: this.delivered,
      deadLetteredRecords: this.deadLettered,
    };
  }

  private async run(): Promise<void> {
    const loaded = await this.persist(() => this.ports.checkpoints.load(this.sinkName), 'checkpoint');
    if (loaded === STOPPED) return;
    this.position = loaded;
    while (!this.stopping) {
      const batch = await this.persist(() => this.read(), 'source');
      if (batch === STOPPED) return;
      if (batch.length === 0) {
        await this.sleep(this.pollIntervalMs, true);
        continue;
      }
      await this.deliverBatch(batch);
    }
  }

  private async read(): Promise<AuditRecord[]> {
    const { source } = this.ports;
    if (source.headPosition) this.head = await source.headPosition();
    const batch = await source.readFrom(this.position, this.batchSize);
    let previous = this.position === null ? -1n : parsePosition(this.position);
    for (const r of batch) {
      const p = parsePosition(r.position, 'record position');
      // A source that goes backwards would make the checkpoint lie about what was delivered.
      if (p <= previous) throw new Error(`source returned position ${r.position} after ${previous}`);
      previous = p;
    }
    if (batch.length && (this.head === null || previous > parsePosition(this.head))) this.head = previous.toString();
    return batch;
  }

  /**
   * Delivers one batch, however long it takes. Segments are worked front to back so order is kept: a refused
   * segment is replaced by its parts, a delivered or dead-lettered one moves the checkpoint.
   */
  private async deliverBatch(batch: AuditRecord[]): Promise<void> {
    const attempts = new Map<AuditRecord, number>();
    const queue: AuditRecord[][] = [batch];
    while (queue.length && !this.stopping) {
      let segment = queue[0];
      for (const r of segment) attempts.set(r, (attempts.get(r) ?? 0) + 1);
      try {
        await this.ports.sink.deliver(segment);
      } catch (e) {
        const err = toDeliveryError(e);
        if (err.delivered > 0) {
          const done = segment.slice(0, err.delivered);
          if ((await this.advance(done)) === STOPPED) return;
          segment = segment.slice(err.delivered);
          queue[0] = segment;
        }
        const rejectedIndex = err.rejectedIndex === undefined ? undefined : err.rejectedIndex - err.delivered;
        if (err.kind === 'rejected' || err.kind === 'too-large') {
          if (segment.length === 1) {
            if ((await this.deadLetter(segment[0], err, attempts.get(segment[0]) ?? 1)) === STOPPED) return;
            queue.shift();
          } else {
            queue.splice(0, 1, ...split(segment, rejectedIndex));
          }
          continue;
        }
        await this.failed({ kind: err.kind, message: err.message, status: err.status, retryAfterMs: err.retryAfterMs });
        continue;
      }
      if ((await this.advance(segment)) === STOPPED) return;
      queue.shift();
    }
  }

  private async advance(done: AuditRecord[]): Promise<void | typeof STOPPED> {
    const last = done[done.length - 1].position;
    const saved = await this.persist(() => this.ports.checkpoints.save(this.sinkName, last), 'checkpoint');
    if (saved === STOPPED) return STOPPED;
    this.position = last;
    this.delivered += done.length;
    this.succeeded();
  }

  private async deadLetter(record: AuditRecord, err: SinkDeliveryError, attempts: number): Promise<void | typeof STOPPED> {
    const reason = `${err.kind}: ${err.message}`;
    const put = await this.persist(
      () => this.ports.deadLetters.put({ sink: this.sinkName, record, reason, attempts, at: this.now().toISOString() }),
      'dead-letter',
    );
    if (put === STOPPED) return STOPPED;
    this.log.warn({ sink: this.sinkName, position: record.position, type: record.type, reason, attempts }, 'SIEM sink refused a record; dead-lettered');
    const saved = await this.persist(() => this.ports.checkpoints.save(this.sinkName, record.position), 'checkpoint');
    if (saved === STOPPED) return STOPPED;
    this.position = record.position;
    this.deadLettered += 1;
  }

  /** Runs a store operation until it succeeds (backing off between tries) or the runner stops. */
  private async persist<T>(op: () => Promise<T>, kind: 'checkpoint' | 'dead-letter' | 'source'): Promise<T | typeof STOPPED> {
    while (!this.stopping) {
      try {
        return await op();
      } catch (e) {
        await this.failed({ kind, message: describe(e) });
      }
    }
    return STOPPED;
  }

  private succeeded(): void {
    if (this.state !== 'ok') this.log.info({ sink: this.sinkName, position: this.position }, 'SIEM sink recovered');
    this.state = 'ok';
    this.consecutiveFailures = 0;
    this.nextRetryAt = null;
    this.lastSuccessAt = this.now().toISOString();
  }

  private async failed(f: Failure): Promise<void> {
    this.consecutiveFailures += 1;
    this.lastError = { kind: f.kind, message: f.message, status: f.status, at: this.now().toISOString() };
    this.state = f.kind === 'failing' || this.consecutiveFailures >= this.failingAfter ? 'failing' : 'retrying';
    const delay = Math.max(backoffDelay(this.backoff, this.consecutiveFailures, this.random), f.retryAfterMs ?? 0);
    this.nextRetryAt = new Date(this.now().getTime() + delay).toISOString();
    await this.refreshHead();
    const log = this.state === 'failing' ? this.log.error : this.log.warn;
    log.call(
      this.log,
      { sink: this.sinkName, kind: f.kind, status: f.status, attempt: this.consecutiveFailures, retryInMs: delay, position: this.position },
      `SIEM sink delivery failed: ${f.message}`,
    );
    await this.sleep(delay, false);
  }

  /** A sink stuck on one batch still has to show its lag growing, or an outage would look like a steady state. */
  private async refreshHead(): Promise<void> {
    try {
      const head = await this.ports.source.headPosition?.();
      if (head && (this.head === null || parsePosition(head) > parsePosition(this.head))) this.head = head;
    } catch {
      // Lag is informational; the failure being handled is what the status reports.
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      // stop() must always be able to end a wait; notify() only ends idle waits.
      this.wake = wakeable ? done : () => this.stopping && done();
    });
  }
}

const STOPPED = Symbol('stopped');

/** Splits a refused segment: around the record the receiver named, else in halves (bisection finds it in log n). */
function split(segment: AuditRecord[], rejectedIndex?: number): AuditRecord[][] {
  if (rejectedIndex !== undefined && rejectedIndex >= 0 && rejectedIndex < segment.length) {
    return [segment.slice(0, rejectedIndex), [segment[rejectedIndex]], segment.slice(rejectedIndex + 1)].filter((s) => s.length > 0);
  }
  const half = Math.ceil(segment.length / 2);
  return [segment.slice(0, half), segment.slice(half)];
}

function toDeliveryError(e: unknown): SinkDeliveryError {
  if (e instanceof SinkDeliveryError) return e;
  // An unexpected error is most likely transient (a socket, a DNS hiccup); resending is safe, dropping is not.
  return new SinkDeliveryError('retryable', describe(e));
}

function describe(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
