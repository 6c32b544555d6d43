import { WorkerAccessDenied, WorkerAccessDeniedSuppressed, WorkerAccessEvent, workerDeniedStream } from '@cmk/domain';
import type { EventStore, NewEvent } from '@cmk/event-store';
import type { MeshLogger, ReceivedMessage } from '@cmk/mesh';
import { AccessDenialsMessage, decodeMessage, DENIAL_REASONS, WORKER_AUTH_REFUSALS } from '@cmk/orbital';
import { FeedbackOutcome, InvalidFeedbackError } from './feedback';
import { describeError, retryUntilDone } from './retry';

const REASONS: ReadonlySet<string> = new Set([...DENIAL_REASONS, ...WORKER_AUTH_REFUSALS]);
const OPERATIONS = new Set(['generate-data-key', 'wrap', 'unwrap']);
/** Ids that end up in stream names and audit filters: printable, no whitespace, bounded. */
const ID = /^[^\s\u0000-\u001f\u007f]{1,256}$/;
/** A worker splits a window into reports of 500 records; anything far larger is not one of ours. */
const MAX_RECORDS = 5_000;

const optionalId = (v: unknown) => v === undefined || (typeof v === 'string' && ID.test(v));
const isoTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** Parses and checks a worker's access-denial report: what ends up in the audit log must be well-formed. */
export function parseAccessDenials(value: Buffer): AccessDenialsMessage {
  const report = decodeMessage(value, 'access-denials');
  const bad = (field: string) => new InvalidFeedbackError(`access-denials field ${field} is missing or malformed`);
  for (const field of ['workerId', 'region', 'reportId'] as const) if (typeof report[field] !== 'string' || !ID.test(report[field])) throw bad(field);
  for (const field of ['windowStart', 'windowEnd'] as const) if (!isoTime(report[field])) throw bad(field);
  if (!Array.isArray(report.denials)) throw bad('denials');
  if (!Array.isArray(report.suppressed)) throw bad('suppressed');
  if (report.denials.length + report.suppressed.length > MAX_RECORDS) throw bad('denials');
  const party = (e: { tenantId?: unknown; systemId?: unknown }) =>
    optionalId(e.tenantId) && optionalId(e.systemId) && (e.systemId === undefined || e.tenantId !== undefined);
  report.denials.forEach((d, i) => {
    if (!d || !isoTime(d.at) || !OPERATIONS.has(d.operation) || !REASONS.has(d.reason) || !party(d)) throw bad(`denials[${i}]`);
    if (!optionalId(d.keyLinkId) || (d.subject !== undefined && (typeof d.subject !== 'string' || d.subject.length === 0 || d.subject.length > 512))) throw bad(`denials[${i}]`);
    // A subject without a tenant would be read from an unverified token: the worker never sends one.
    if (d.subject !== undefined && d.tenantId === undefined) throw bad(`denials[${i}].subject`);
  });
  report.suppressed.forEach((s, i) => {
    if (!s || !REASONS.has(s.reason) || !party(s)) throw bad(`suppressed[${i}]`);
    if (!Number.isInteger(s.count) || s.count < 1) throw bad(`suppressed[${i}].count`);
  });
  return report;
}

/**
 * The idempotency key of one report's events in one stream. Report ids are unique per worker only, and command ids
 * are global, so the worker id is part of it; the stream is too, because one report lands in several streams.
 */
export const accessDenialsCommandId = (report: Pick<AccessDenialsMessage, 'workerId' | 'reportId'>, stream: string) =>
  `denials:${report.workerId}:${report.reportId}:${stream}`;

/**
 * The report's events per stream: each denial in its tenant's stream of the day it happened, each summary in
 * its tenant's stream of the day its window started. Fields are named one by one: whatever else a message
 * carries does not reach the audit log.
 */
export function accessDenialEvents(report: AccessDenialsMessage): Map<string, WorkerAccessEvent[]> {
  const { workerId, region, reportId, windowStart, windowEnd } = report;
  const streams = new Map<string, WorkerAccessEvent[]>();
  const add = (stream: string, event: WorkerAccessEvent) => {
    const events = streams.get(stream);
    if (events) events.push(event);
    else streams.set(stream, [event]);
  };
  for (const d of report.denials) {
    const event: WorkerAccessDenied = {
      type: 'WorkerAccessDenied',
      data: {
        at: new Date(d.at).toISOString(),
        ...(d.tenantId !== undefined ? { tenantId: d.tenantId } : {}),
        ...(d.systemId !== undefined ? { systemId: d.systemId } : {}),
        operation: d.operation,
        ...(d.keyLinkId !== undefined ? { keyLinkId: d.keyLinkId } : {}),
        reason: d.reason,
        ...(d.subject !== undefined ? { subject: d.subject } : {}),
        workerId,
        region,
        reportId,
      },
    };
    add(workerDeniedStream(new Date(d.at), d.tenantId), event);
  }
  const window = { from: new Date(windowStart).toISOString(), to: new Date(windowEnd).toISOString() };
  for (const s of report.suppressed) {
    const event: WorkerAccessDeniedSuppressed = {
      type: 'WorkerAccessDeniedSuppressed',
      data: {
        ...(s.tenantId !== undefined ? { tenantId: s.tenantId } : {}),
        ...(s.systemId !== undefined ? { systemId: s.systemId } : {}),
        reason: s.reason,
        count: s.count,
        window,
        workerId,
        region,
        reportId,
      },
    };
    add(workerDeniedStream(new Date(windowStart), s.tenantId), event);
  }
  return streams;
}

/**
 * Records workers' access-denial reports: one append per (report, stream), each with its own command id, so a
 * redelivered report (or one half recorded before a crash) appends only what is missing. Appends retry until
 * they land, since the mesh would otherwise redeliver in a tight loop; a report that can never be recorded is
 * dropped and logged.
 */
export class AccessDenialsRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly logger: MeshLogger,
    private readonly signal: AbortSignal,
    private readonly metadata: (actor: string, occurredAt: string, commandId: string) => Record<string, unknown>,
    private readonly count: (outcome: FeedbackOutcome) => void,
  ) {}

  readonly onReport = async (message: ReceivedMessage): Promise<void> => {
    let report: AccessDenialsMessage;
    let streams: Map<string, WorkerAccessEvent[]>;
    try {
      report = parseAccessDenials(message.value);
      streams = accessDenialEvents(report);
    } catch (error) {
      this.logger.warn({ err: describeError(error), topic: message.topic, partition: message.partition, offset: message.offset }, 'dropping an access-denials report that cannot be recorded');
      this.count('invalid');
      return;
    }
    for (const [stream, events] of streams) {
      const commandId = accessDenialsCommandId(report, stream);
      const actor = `worker:${report.workerId}`;
      const batch: NewEvent[] = events.map((e) => ({
        ...e,
        metadata: this.metadata(actor, e.type === 'WorkerAccessDenied' ? e.data.at : e.data.window.to, commandId),
      }));
      // 'any': every worker of every region appends to a tenant's day stream; the command id keeps re-sends out.
      const result = await retryUntilDone(() => this.store.append(stream, batch, { expectedRevision: 'any', commandId }), {
        what: 'recording access denials',
        signal: this.signal,
        onError: (error, attempt) => this.logger.warn({ err: describeError(error), attempt, stream }, 'recording access denials failed; retrying'),
      });
      this.count(result.duplicate ? 'duplicate' : 'appended');
    }
  };
}
