import { ENFORCEMENT_CAUSES, enforcementStream, RevocationEnforced, TenantKeyEvent, tenantKeyStream, UsageReported, usageStream } from '@cmk/domain';
import type { EventStore } from '@cmk/event-store';
import type { MeshLogger, ReceivedMessage } from '@cmk/mesh';
import { AckMessage, decodeMessage, OrbitalDecodeError, TenantKeyMessage, UsageMessage } from '@cmk/orbital';
import { describeError, retryUntilDone } from './retry';

/** An ack or usage report that cannot be recorded as it is: retrying would not help, so it is dropped (logged). */
export class InvalidFeedbackError extends Error {
  readonly name = 'InvalidFeedbackError';
}

export type FeedbackOutcome = 'appended' | 'duplicate' | 'invalid';
type FeedbackKind = 'ack' | 'usage' | 'tenant-key';

const POSITION = /^[1-9][0-9]{0,18}$/;
const OPERATIONS = new Set(['generate-data-key', 'wrap', 'unwrap']);
const OUTCOMES = new Set(['allowed', 'denied']);
const CAUSES: ReadonlySet<string> = new Set(ENFORCEMENT_CAUSES);

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 256;
const isoTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** Parses and checks an ack: what ends up in the audit log must be well-formed. */
export function parseAck(value: Buffer): AckMessage {
  const ack = decodeMessage(value, 'revocation-enforced');
  const bad = (field: string) => new InvalidFeedbackError(`ack field ${field} is missing or malformed`);
  for (const field of ['workerId', 'region', 'tenantId'] as const) if (!nonEmpty(ack[field])) throw bad(field);
  if (!CAUSES.has(ack.cause)) throw bad('cause');
  if (typeof ack.revocationPosition !== 'string' || !POSITION.test(ack.revocationPosition)) throw bad('revocationPosition');
  if (!isoTime(ack.enforcedAt)) throw bad('enforcedAt');
  if (ack.keyLinkId !== undefined && !nonEmpty(ack.keyLinkId)) throw bad('keyLinkId');
  return ack;
}

export function parseUsage(value: Buffer): UsageMessage {
  const usage = decodeMessage(value, 'usage');
  const bad = (field: string) => new InvalidFeedbackError(`usage field ${field} is missing or malformed`);
  for (const field of ['workerId', 'region', 'reportId'] as const) if (!nonEmpty(usage[field])) throw bad(field);
  if (!isoTime(usage.windowStart)) throw bad('windowStart');
  if (!isoTime(usage.windowEnd)) throw bad('windowEnd');
  if (!Array.isArray(usage.counts)) throw bad('counts');
  usage.counts.forEach((c, i) => {
    if (!c || !nonEmpty(c.tenantId) || !nonEmpty(c.systemId)) throw bad(`counts[${i}]`);
    if (!OPERATIONS.has(c.operation) || !OUTCOMES.has(c.outcome)) throw bad(`counts[${i}]`);
    if (!Number.isInteger(c.count) || c.count < 0) throw bad(`counts[${i}].count`);
  });
  return usage;
}

const L2_ID = /^[0-9a-f]{32}$/;
const KCV = /^kcv:[0-9a-f]{6}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The L2 key is 32 bytes; every L1 wrap (AES-GCM's IV and tag, AES-KW's block) makes it longer. */
const MIN_WRAPPED_BYTES = 33;

/**
 * Parses and checks an L2 key registration or re-wrap. The bridge cannot unwrap anything, but it refuses what
 * cannot be a wrapped 32-byte key, so a faulty worker cannot put a bare key into the audit log.
 */
export function parseTenantKey(value: Buffer): TenantKeyMessage {
  const message = decodeMessage(value) as TenantKeyMessage;
  if (message.kind !== 'tenant-key-generated' && message.kind !== 'tenant-key-rewrapped') {
    throw new OrbitalDecodeError(`expected a tenant-key message, got ${(message as { kind: string }).kind}`);
  }
  const bad = (field: string) => new InvalidFeedbackError(`tenant-key field ${field} is missing or malformed`);
  for (const field of ['workerId', 'region', 'tenantId', 'keyLinkId'] as const) if (!nonEmpty(message[field])) throw bad(field);
  if (typeof message.l2Id !== 'string' || !L2_ID.test(message.l2Id)) throw bad('l2Id');
  const wrapped = message.wrappedL2;
  if (typeof wrapped !== 'string' || wrapped.length > 8192 || !BASE64.test(wrapped) || Buffer.from(wrapped, 'base64').length < MIN_WRAPPED_BYTES) throw bad('wrappedL2');
  if (message.kind === 'tenant-key-generated') {
    if (!Number.isInteger(message.l2Version) || message.l2Version < 1 || message.l2Version > 1_000_000) throw bad('l2Version');
    if (typeof message.l2Fingerprint !== 'string' || !KCV.test(message.l2Fingerprint)) throw bad('l2Fingerprint');
    if (message.l1KeyVersion !== undefined && !nonEmpty(message.l1KeyVersion)) throw bad('l1KeyVersion');
  } else {
    if (!nonEmpty(message.l1KeyVersion)) throw bad('l1KeyVersion');
    if (message.previousL1KeyVersion !== undefined && !nonEmpty(message.previousL1KeyVersion)) throw bad('previousL1KeyVersion');
  }
  return message;
}

/**
 * One registration per (link, L2 version) and one re-wrap per (L2 key, L1 version), whichever worker reports
 * it first: the event store appends nothing for a command id it has seen, so a second worker's L2 key for the
 * same version is never registered (that worker switches to the registered one), and a re-wrap done twice is
 * recorded once.
 */
export const tenantKeyCommandId = (m: TenantKeyMessage) =>
  m.kind === 'tenant-key-generated' ? `tenantkey:${m.keyLinkId}:v${m.l2Version}` : `tenantkey:${m.keyLinkId}:${m.l2Id}:l1=${m.l1KeyVersion}`;

/** The idempotency key of an ack: one RevocationEnforced per worker and revocation, however often it is sent. */
export const ackCommandId = (ack: Pick<AckMessage, 'workerId' | 'revocationPosition'>) => `ack:${ack.workerId}:${ack.revocationPosition}`;

/**
 * The contract makes reportId unique per worker only, and command ids are global in the event store, so the
 * worker id is part of the key: two workers that happen to pick the same report id both get recorded.
 */
export const usageCommandId = (usage: Pick<UsageMessage, 'workerId' | 'reportId'>) => `usage:${usage.workerId}:${usage.reportId}`;

/**
 * Turns acks, usage reports and L2 key reports from the mesh into events. Handlers retry appends until they land (the mesh would
 * otherwise redeliver the same message in a tight loop) and drop messages that can never be recorded.
 */
export class FeedbackRecorder {
  constructor(
    private readonly store: EventStore,
    private readonly logger: MeshLogger,
    private readonly signal: AbortSignal,
    private readonly metadata: (actor: string, occurredAt: string, commandId: string) => Record<string, unknown>,
    private readonly count: (kind: FeedbackKind, outcome: FeedbackOutcome) => void,
  ) {}

  readonly onAck = (message: ReceivedMessage): Promise<void> =>
    this.record('ack', message, () => {
      const ack = parseAck(message.value);
      const event: RevocationEnforced = {
        type: 'RevocationEnforced',
        data: {
          tenantId: ack.tenantId,
          ...(ack.keyLinkId ? { keyLinkId: ack.keyLinkId } : {}),
          cause: ack.cause,
          revocationPosition: ack.revocationPosition,
          workerId: ack.workerId,
          region: ack.region,
          enforcedAt: ack.enforcedAt,
        },
      };
      const commandId = ackCommandId(ack);
      // 'any': every worker of every region acks into the tenant's one stream, in no order that means anything;
      // the command id, not the revision, keeps a redelivered ack from being recorded twice.
      return { stream: enforcementStream(ack.tenantId), event, commandId, metadata: this.metadata(`worker:${ack.workerId}`, ack.enforcedAt, commandId) };
    });

  readonly onUsage = (message: ReceivedMessage): Promise<void> =>
    this.record('usage', message, () => {
      const usage = parseUsage(message.value);
      const { workerId, region, reportId, windowStart, windowEnd, counts } = usage;
      const event: UsageReported = {
        type: 'UsageReported',
        data: { workerId, region, reportId, windowStart, windowEnd, counts: counts.map(({ tenantId, systemId, operation, outcome, count }) => ({ tenantId, systemId, operation, outcome, count })) },
      };
      const commandId = usageCommandId(usage);
      // One worker's reports, in the order it sent them, but a redelivery may repeat an older one: 'any' + command id.
      return { stream: usageStream(workerId), event, commandId, metadata: this.metadata(`worker:${workerId}`, windowEnd, commandId) };
    });

  readonly onTenantKey = (message: ReceivedMessage): Promise<void> =>
    this.record('tenant-key', message, () => {
      const m = parseTenantKey(message.value);
      const { workerId, region, tenantId, keyLinkId, l2Id, wrappedL2 } = m;
      // Fields named one by one: whatever else a message carries must not reach the audit log.
      const event: TenantKeyEvent =
        m.kind === 'tenant-key-generated'
          ? {
              type: 'TenantKeyGenerated',
              data: { keyLinkId, tenantId, l2Id, l2Version: m.l2Version, wrappedL2, ...(m.l1KeyVersion ? { l1KeyVersion: m.l1KeyVersion } : {}), l2Fingerprint: m.l2Fingerprint, region, workerId },
            }
          : {
              type: 'TenantKeyRewrapped',
              data: { keyLinkId, tenantId, l2Id, wrappedL2, l1KeyVersion: m.l1KeyVersion, ...(m.previousL1KeyVersion ? { previousL1KeyVersion: m.previousL1KeyVersion } : {}), region, workerId },
            };
      const commandId = tenantKeyCommandId(m);
      // 'any': workers of every region report into the link's one stream; the command id decides who was first.
      return { stream: tenantKeyStream(keyLinkId), event, commandId, metadata: this.metadata(`worker:${workerId}`, new Date().toISOString(), commandId) };
    });

  private async record(
    kind: FeedbackKind,
    message: ReceivedMessage,
    build: () => { stream: string; event: RevocationEnforced | UsageReported | TenantKeyEvent; commandId: string; metadata: Record<string, unknown> },
  ): Promise<void> {
    let built: ReturnType<typeof build>;
    try {
      built = build();
    } catch (error) {
      this.logger.warn({ err: describeError(error), topic: message.topic, partition: message.partition, offset: message.offset }, `dropping an ${kind} message that cannot be recorded`);
      this.count(kind, 'invalid');
      return;
    }
    const { stream, event, commandId, metadata } = built;
    const result = await retryUntilDone(() => this.store.append(stream, [{ ...event, metadata }], { expectedRevision: 'any', commandId }), {
      what: `recording an ${kind}`,
      signal: this.signal,
      onError: (error, attempt) => this.logger.warn({ err: describeError(error), attempt, stream }, `recording an ${kind} failed; retrying`),
    });
    this.count(kind, result.duplicate ? 'duplicate' : 'appended');
  }
}
