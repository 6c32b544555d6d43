import { createHash, hash as oneShotHash } from 'node:crypto';
import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { canonicalizeWithout, canonicalString, canonicalize } from './canonical-json';

/**
 * Per-stream hash chain: THE definition. The event stores write it at append (the PostgreSQL append function
 * links, see libs/event-store/src/postgres/append-function.sql.ts; the EventStoreDB adapter links in TS), and
 * every verifier recomputes it from exported events alone:
 *
 *   content = JCS({ data, metadata without `audit`, streamName, type })          (RFC 8785)
 *   digest  = SHA-256(UTF-8 bytes of content)
 *   hash    = SHA-256(prevHash || digest)      both as 32 raw bytes, the result written as lower-case hex
 *
 * `prevHash` is the hash of the same stream's previous event, or {@link GENESIS_HASH} for revision 0. It is split
 * in two so the part that needs the event's content (the digest) is computed by the writer before the append, and
 * only the cheap link needs the real previous event, which only the store knows at commit time (also for
 * expectedRevision 'any' and concurrent writers). The fields are stored in the event's own metadata under the
 * reserved key {@link AUDIT_METADATA_KEY}, which is why that key is left out of the content.
 *
 * Revision, event id, global position and recordedAt are not hashed: the revision is implied by the chain (the
 * n-th link from genesis), and global order across streams is covered by the Merkle checkpoints.
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

/** The parts of an event its content digest covers. */
export type ChainContent = Pick<RecordedEvent, 'streamName' | 'type' | 'data' | 'metadata'>;
/** The parts of an event the chain checks. */
export type ChainInput = ChainContent & Pick<RecordedEvent, 'revision'>;

const HEX_HASH = /^[0-9a-f]{64}$/;

// A verifier hashes twice per event, so per-call overhead counts: node:crypto's one-shot `hash` (Node >= 20.12)
// where it exists, the streaming API otherwise; the bytes are the same.
const sha256 =
  typeof oneShotHash === 'function'
    ? (data: string | Uint8Array): Buffer => oneShotHash('sha256', data, 'buffer')
    : (data: string | Uint8Array): Buffer => createHash('sha256').update(data).digest();
const sha256Hex =
  typeof oneShotHash === 'function'
    ? (data: string | Uint8Array): string => oneShotHash('sha256', data, 'hex')
    : (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
// The digest as a one-byte string: allocating a Buffer per digest costs more than the hash itself.
const sha256Latin1 =
  typeof oneShotHash === 'function'
    ? (data: string): string => oneShotHash('sha256', data, 'binary')
    : (data: string): string => createHash('sha256').update(data).digest('binary');
/** prevHash || digest, reused: hashing is synchronous, so nothing else can touch it in between. */
const LINK_INPUT = Buffer.alloc(64);

export function isHexHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_HASH.test(value);
}

/** The canonical content text (see the definition above). */
export function canonicalContent(event: ChainContent): string {
  // Written out in JCS member order (data, metadata, streamName, type) so the hot path neither copies the metadata
  // nor sorts the top level; the spec checks it equals JCS of the whole object.
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw new TypeError('event metadata must be a JSON object');
  return (
    '{"data":' +
    canonicalize(event.data) +
    ',"metadata":' +
    canonicalizeWithout(metadata as Record<string, unknown>, AUDIT_METADATA_KEY) +
    ',"streamName":' +
    canonicalString(event.streamName) +
    ',"type":' +
    canonicalString(event.type) +
    '}'
  );
}

/** SHA-256 of the canonical content, 32 bytes. */
export function contentDigest(event: ChainContent): Buffer {
  return sha256(canonicalContent(event));
}

/** {@link contentDigest} as lower-case hex, as a writer sends it to the store. */
export function contentDigestHex(event: ChainContent): string {
  return sha256Hex(canonicalContent(event));
}

/** hash = SHA-256(prevHash || digest), hex. */
export function linkHash(previousHash: string, digest: Uint8Array): string {
  if (!HEX_HASH.test(previousHash)) throw new TypeError(`previous hash must be 64 lower-case hex digits, got ${JSON.stringify(previousHash)}`);
  if (digest.length !== 32) throw new RangeError(`a content digest has 32 bytes, got ${digest.length}`);
  return link(previousHash, digest);
}

/** {@link linkHash} for a previous hash already known to be 64 lower-case hex digits. */
function link(previousHash: string, digest: Uint8Array): string {
  LINK_INPUT.write(previousHash, 0, 32, 'hex');
  LINK_INPUT.set(digest, 32);
  return sha256Hex(LINK_INPUT);
}

/** {@link eventHash} for a previous hash already known to be 64 lower-case hex digits: the verifier's hot path. */
function linkContent(previousHash: string, event: ChainContent): string {
  const digest = sha256Latin1(canonicalContent(event));
  LINK_INPUT.write(previousHash, 0, 32, 'hex');
  LINK_INPUT.write(digest, 32, 32, 'latin1');
  return sha256Hex(LINK_INPUT);
}

/** The chain hash of one event given the previous event's hash (hex). */
export function eventHash(previousHash: string, event: ChainContent): string {
  return linkHash(previousHash, contentDigest(event));
}

/**
 * The chain fields for `event`. `prev` is the previous event of the same stream (its audit fields or its hash), or
 * null for revision 0.
 */
export function chainFields(prev: AuditFields | string | null, event: ChainInput): AuditFields {
  if (!Number.isSafeInteger(event.revision) || event.revision < 0) {
    throw new RangeError(`revision must be a non-negative integer, got ${event.revision}`);
  }
  if ((event.revision === 0) !== (prev === null)) {
    throw new RangeError(`revision ${event.revision} ${event.revision === 0 ? 'starts a stream and takes no' : 'needs a'} previous hash`);
  }
  const prevHash = prev === null ? GENESIS_HASH : typeof prev === 'string' ? prev : prev.hash;
  return { alg: CHAIN_ALG, prevHash, hash: eventHash(prevHash, event) };
}

/** The chain fields an event carries, or undefined when absent or malformed. */
export function auditFieldsOf(event: Pick<RecordedEvent, 'metadata'>): AuditFields | undefined {
  const audit = event.metadata?.[AUDIT_METADATA_KEY] as Partial<AuditFields> | undefined;
  if (typeof audit !== 'object' || audit === null) return undefined;
  if (audit.alg !== CHAIN_ALG || !isHexHash(audit.hash) || !isHexHash(audit.prevHash)) return undefined;
  return audit as AuditFields;
}

/**
 * What is wrong with an event, named after the tampering that produces it (the detail says what was observed):
 *
 * - `modified`: the stored hash is not the hash of the event's content and prevHash.
 * - `deleted`: a revision gap; or an event that links to a hash its stream never showed (its predecessor was
 *   deleted and the revisions closed up, or the predecessor was rewritten together with its hash).
 * - `inserted`: a second event with a revision already seen; or two consecutive events that claim the same
 *   predecessor (one is an extra: a copy, or one that does not match its own hash, is named; otherwise the first).
 * - `reordered`: a revision below one already seen in this stream.
 * - `missing-chain-fields`: no valid `metadata.audit`: the event was not written by an append of a chaining store.
 * - `wrong-stream`: (single-stream checks only) an event of another stream.
 */
export type ChainProblemKind = 'wrong-stream' | 'reordered' | 'deleted' | 'missing-chain-fields' | 'inserted' | 'modified';

export interface ChainProblem {
  kind: ChainProblemKind;
  streamName: string;
  revision: number;
  /** Human-readable, without the event's location (the caller knows how to name it). */
  detail: string;
  /**
   * True when the bad event is not the one checked but the head before it (an inserted event that linked correctly
   * to its predecessor, caught by its successor linking past it).
   */
  atHead?: boolean;
  /**
   * Set on a revision gap: the missing revision. Whether that event was deleted or only moved later in the order
   * shows when the stream's next event is read (see chain-verifier.ts).
   */
  missingRevision?: number;
  /** Set on a link to an unknown hash: the hash it links to. If a later event of the stream has it, it was a reorder. */
  unknownPrevHash?: string;
}

/** Where a stream's chain stands after the last verified event. */
export interface ChainHead {
  streamName: string;
  revision: number;
  hash: string;
  prevHash: string;
}

/** Checks one event against the head of its stream (undefined before revision 0); returns the new head or a problem. */
export function checkLink(head: ChainHead | undefined, event: ChainInput): ChainHead | ChainProblem {
  const { streamName, revision } = event;
  if (head && head.streamName !== streamName) return problemAt(event, 'wrong-stream', `belongs to ${streamName}, not ${head.streamName}`);
  const expected = head ? head.revision + 1 : 0;
  if (head && revision === head.revision) return problemAt(event, 'inserted', `is a second event with revision ${revision}`);
  if (revision < expected) return problemAt(event, 'reordered', `is out of order: revision ${revision} comes after revision ${expected - 1}`);
  if (revision > expected) {
    const missing = revision - 1 === expected ? `revision ${expected} is` : `revisions ${expected}..${revision - 1} are`;
    return problemAt(event, 'deleted', `follows a gap: ${missing} missing (deleted)`, { missingRevision: expected });
  }
  const expectedPrev = head ? head.hash : GENESIS_HASH;
  // The common case first, and cheaply: the link names the head (a hash already checked), so only the content is
  // hashed and the stored hash compared; a malformed stored hash simply does not compare equal.
  const fields = event.metadata?.[AUDIT_METADATA_KEY] as Partial<AuditFields> | undefined;
  if (typeof fields === 'object' && fields !== null && fields.alg === CHAIN_ALG && fields.prevHash === expectedPrev) {
    const recomputed = linkContent(expectedPrev, event);
    if (recomputed !== fields.hash) return problemAt(event, 'modified', `was modified: stored hash ${String(fields.hash)} recomputed ${recomputed}`);
    // The event's own (equal) string rather than the fresh one: a head outlives many events, and pointing it at
    // what the event already holds keeps the garbage collector from promoting a new string per event.
    return { streamName, revision, hash: fields.hash, prevHash: expectedPrev };
  }
  return brokenLink(head, event);
}

function problemAt(event: ChainInput, kind: ChainProblemKind, detail: string, extra: Partial<ChainProblem> = {}): ChainProblem {
  return { kind, streamName: event.streamName, revision: event.revision, detail, ...extra };
}

/** An event at the expected revision whose chain fields are missing or do not name the head. */
function brokenLink(head: ChainHead | undefined, event: ChainInput): ChainProblem {
  const audit = auditFieldsOf(event);
  if (!audit) return problemAt(event, 'missing-chain-fields', `carries no valid metadata.${AUDIT_METADATA_KEY} chain fields`);
  const recomputed = eventHash(audit.prevHash, event);
  const intact = recomputed === audit.hash;
  const before = head ? `revision ${head.revision} (hash ${head.hash})` : `genesis (${GENESIS_HASH})`;
  if (head && audit.prevHash === head.prevHash) {
    // Two events claim the same predecessor, so one of them is an extra. A copy of the head (same content, same
    // link) or one whose own hash is wrong is the extra itself; otherwise either could be the forgery, and the
    // stream is unproven from the first of the two.
    if (audit.hash === head.hash) return problemAt(event, 'inserted', `is a copy of revision ${head.revision} (same content and link)`);
    if (!intact) return problemAt(event, 'inserted', `claims the predecessor of revision ${head.revision} and does not match its own hash: a forged extra event`);
    return problemAt(event, 'inserted', `and revision ${event.revision} after it both link to the same predecessor: one of them was inserted`, { atHead: true, revision: head.revision });
  }
  if (!intact) return problemAt(event, 'modified', `was modified: stored hash ${audit.hash} recomputed ${recomputed}, and it does not link to ${before}`);
  return problemAt(
    event,
    'deleted',
    `does not link to ${before}: its prevHash ${audit.prevHash} names an event this stream does not show ` +
      `(deleted with the revisions closed up, or the event before it rewritten together with its hash)`,
    { unknownPrevHash: audit.prevHash },
  );
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
    if (isChainProblem(result)) {
      const at = result.atHead ? index - 1 : index;
      return { ok: false, index: at, ...result, problem: `${result.streamName}@${result.revision} ${result.detail}` };
    }
    head = result;
    index++;
  }
  return head ? { ok: true, head } : { ok: true };
}
