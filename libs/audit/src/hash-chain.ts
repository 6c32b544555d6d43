import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@cmk/event-store';
import { canonicalizeWithout, canonicalString, canonicalize } from './canonical-json';

/**
 * Per-stream hash chain. Each event's hash covers what it says and the hash of the event before it in the same
 * stream, so changing, removing, inserting or reordering an event breaks the chain at that point:
 *
 *   hash = SHA-256(JCS({ streamName, revision, type, data, metadata without `audit`, previousHash }))
 *
 * `previousHash` is the lower-case hex hash of revision - 1, or {@link GENESIS_HASH} for revision 0. The result is
 * stored in the event's own metadata under the reserved key {@link AUDIT_METADATA_KEY}, which is why that key is
 * left out of the hashed metadata. Event id, global position and recordedAt are assigned by the store and are not
 * covered (global order is covered by the Merkle checkpoints instead).
 */
export const AUDIT_METADATA_KEY = 'audit';
export const CHAIN_ALG = 'sha256';
/** 32 zero bytes, hex: the previous hash of every stream's revision 0. */
export const GENESIS_HASH = '0'.repeat(64);

/** What `metadata.audit` holds. */
export interface AuditFields {
  alg: typeof CHAIN_ALG;
  prevHash: string;
  hash: string;
}

/** The parts of an event the chain covers. */
export type ChainInput = Pick<RecordedEvent, 'streamName' | 'revision' | 'type' | 'data' | 'metadata'>;

const HEX_HASH = /^[0-9a-f]{64}$/;

/** The chain hash of one event given the previous event's hash (hex). */
export function eventHash(previousHash: string, event: ChainInput): string {
  // Written out in JCS member order (data, metadata, previousHash, revision, streamName, type) so the hot path
  // neither copies the metadata nor sorts the top level; the spec checks it equals JCS of the whole object.
  if (!Number.isSafeInteger(event.revision) || event.revision < 0) {
    throw new RangeError(`revision must be a non-negative integer, got ${event.revision}`);
  }
  if (!HEX_HASH.test(previousHash)) throw new TypeError(`previous hash must be 64 lower-case hex digits, got ${JSON.stringify(previousHash)}`);
  const metadata = event.metadata ?? {};
  const text =
    '{"data":' +
    canonicalize(event.data) +
    ',"metadata":' +
    canonicalizeWithout(metadata as Record<string, unknown>, AUDIT_METADATA_KEY) +
    ',"previousHash":"' +
    previousHash +
    '","revision":' +
    event.revision +
    ',"streamName":' +
    canonicalString(event.streamName) +
    ',"type":' +
    canonicalString(event.type) +
    '}';
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The chain fields for `event`. `prev` is the previous event of the same stream (its audit fields or its hash), or
 * null for revision 0.
 */
export function chainFields(prev: AuditFields | string | null, event: ChainInput): AuditFields {
  const prevHash = prev === null ? GENESIS_HASH : typeof prev === 'string' ? prev : prev.hash;
  if ((event.revision === 0) !== (prev === null)) {
    throw new RangeError(`revision ${event.revision} ${event.revision === 0 ? 'starts a stream and takes no' : 'needs a'} previous hash`);
  }
  return { alg: CHAIN_ALG, prevHash, hash: eventHash(prevHash, event) };
}

/** The chain fields an event carries, or undefined when absent or malformed. */
export function auditFieldsOf(event: Pick<RecordedEvent, 'metadata'>): AuditFields | undefined {
  const audit = event.metadata?.[AUDIT_METADATA_KEY] as Partial<AuditFields> | undefined;
  if (typeof audit !== 'object' || audit === null) return undefined;
  if (audit.alg !== CHAIN_ALG || typeof audit.hash !== 'string' || typeof audit.prevHash !== 'string') return undefined;
  if (!HEX_HASH.test(audit.hash) || !HEX_HASH.test(audit.prevHash)) return undefined;
  return audit as AuditFields;
}

/** What went wrong with a link, in the order the checks run (the first failing one is reported). */
export type ChainProblemKind =
  | 'wrong-stream'
  | 'out-of-order' // a revision at or below one already seen: reordered or duplicated
  | 'deleted' // a revision gap
  | 'missing-chain-fields'
  | 'inserted' // prevHash does not name the previous event: something was inserted, removed or reordered before it
  | 'modified'; // the stored hash is not the hash of the content

export interface ChainProblem {
  kind: ChainProblemKind;
  streamName: string;
  revision: number;
  /** Human-readable, without the event's location (the caller knows how to name it). */
  detail: string;
}

/** Where a stream's chain stands after the last verified event. */
export interface ChainHead {
  streamName: string;
  revision: number;
  hash: string;
}

/** Checks one event against the head of its stream (undefined before revision 0); returns the new head or a problem. */
export function checkLink(head: ChainHead | undefined, event: ChainInput): ChainHead | ChainProblem {
  const { streamName, revision } = event;
  const problem = (kind: ChainProblemKind, detail: string): ChainProblem => ({ kind, streamName, revision, detail });
  if (head && head.streamName !== streamName) return problem('wrong-stream', `belongs to ${streamName}, not ${head.streamName}`);
  const expected = head ? head.revision + 1 : 0;
  if (revision < expected) {
    return problem('out-of-order', `is out of order: revision ${revision} comes after revision ${expected - 1}`);
  }
  if (revision > expected) {
    const missing = revision - 1 === expected ? `revision ${expected} is` : `revisions ${expected}..${revision - 1} are`;
    return problem('deleted', `follows a gap: ${missing} missing (deleted)`);
  }
  const audit = auditFieldsOf(event);
  if (!audit) return problem('missing-chain-fields', `carries no valid metadata.${AUDIT_METADATA_KEY} chain fields`);
  const expectedPrev = head ? head.hash : GENESIS_HASH;
  if (audit.prevHash !== expectedPrev) {
    return problem(
      'inserted',
      `does not link to the event before it: prevHash ${audit.prevHash} but ${head ? `revision ${head.revision} has hash` : 'genesis is'} ` +
        `${expectedPrev} (an event was inserted, replaced or reordered here)`,
    );
  }
  const recomputed = eventHash(audit.prevHash, event);
  if (recomputed !== audit.hash) {
    return problem('modified', `was modified: stored hash ${audit.hash} recomputed ${recomputed}`);
  }
  return { streamName, revision, hash: audit.hash };
}

export function isChainProblem(result: ChainHead | ChainProblem): result is ChainProblem {
  return 'kind' in result;
}

export type StreamChainReport = { ok: true; head?: ChainHead } | ({ ok: false; index: number; problem: string } & ChainProblem);

/**
 * Verifies one stream read from revision 0 in stored order. Reports the first bad event; a deletion at the very end
 * of a stream cannot show in the chain alone (the signed Merkle checkpoints catch it).
 */
export function verifyStreamChain(events: Iterable<ChainInput>): StreamChainReport {
  let head: ChainHead | undefined;
  let index = 0;
  for (const event of events) {
    const result = checkLink(head, event);
    if (isChainProblem(result)) return { ok: false, index, ...result, problem: `${result.streamName}@${result.revision} ${result.detail}` };
    head = result;
    index++;
  }
  return head ? { ok: true, head } : { ok: true };
}
