import type { Position } from '@cmk/event-store/event-store.port';
import { auditFieldsOf, ChainHead, ChainInput, ChainProblemKind, checkLink, isChainProblem } from './hash-chain';

/**
 * Streaming check of every stream's hash chain (hash-chain.ts) over a whole log in global order: a live store read
 * page by page, or an export. Memory is one chain head per stream (its last hash and the one before), whatever the
 * length of the log.
 *
 * Reports the first bad position and what is wrong there:
 * - `modified`: an event's stored hash is not the hash of its content;
 * - `deleted`: a revision gap whose missing revision never shows up, or a link to a hash its stream never shows;
 * - `inserted`: an extra event (a revision seen twice, or an event its successor links past);
 * - `reordered`: positions not increasing, a revision below one already seen, or a gap (or unknown link) that a
 *   later event of the same stream fills: that event was moved, not removed;
 * - `missing-chain-fields`: an event written around the chaining append.
 *
 * A gap or an unknown link is only classified once the rest of the log has been read (a later event may fill it),
 * so its report comes at the end of the walk, still naming the position where the stream first went wrong.
 *
 * What no chain can show: the last events of a stream deleted, a whole stream dropped, events appended at the end
 * of a stream by someone who computes the public chain, order changed across streams. Signed Merkle checkpoints
 * (verifier.ts) cover those.
 */
export interface ChainRecord extends ChainInput {
  position: Position;
}

export type ChainVerifyKind = Exclude<ChainProblemKind, 'wrong-stream'>;

export interface ChainReport {
  ok: boolean;
  /** Events that were read (the walk stops early only at a problem that needs no later event to classify). */
  eventsRead: number;
  /** Events whose chain checked out, in reading order up to the first problem found. */
  eventsVerified: number;
  /** Streams with at least one event whose chain checked out. */
  streams: number;
  firstBadPosition?: Position;
  kind?: ChainVerifyKind;
  streamName?: string;
  revision?: number;
  problem?: string;
}

type Finding = Required<Pick<ChainReport, 'firstBadPosition' | 'kind' | 'streamName' | 'revision' | 'problem'>>;

interface Head extends ChainHead {
  position: Position;
}

/** A problem whose kind depends on what the rest of its stream shows. */
interface Pending extends Finding {
  missingRevision?: number;
  unknownPrevHash?: string;
}

const where = (event: ChainRecord) => `event at position ${event.position} (${event.streamName}@${event.revision})`;

/** Verifies a whole log given in global order (see {@link ChainWalker}). */
export async function verifyChains(events: AsyncIterable<ChainRecord> | Iterable<ChainRecord>): Promise<ChainReport> {
  const walker = new ChainWalker();
  if (Symbol.asyncIterator in events) {
    for await (const event of events) if (!walker.push(event)) break;
  } else {
    for (const event of events) if (!walker.push(event)) break;
  }
  return walker.finish();
}

/** Incremental form of {@link verifyChains}: push events in global order, then finish. */
export class ChainWalker {
  private readonly heads = new Map<string, Head>();
  private lastPosition: Position | undefined;
  private pending: Pending | undefined;
  private finding: Finding | undefined;
  private eventsRead = 0;
  private eventsVerified = 0;

  /** Checks one more event; false once the verdict is final (further pushes are ignored). */
  push(event: ChainRecord): boolean {
    if (this.finding) return false;
    this.eventsRead++;
    const { position, streamName } = event;
    if (this.lastPosition !== undefined && position <= this.lastPosition) {
      // With the order itself broken, "later" means nothing any more: a pending problem stays as first classified.
      if (this.pending) return this.settle(this.pending);
      return this.settle({ kind: 'reordered', firstBadPosition: position, streamName, revision: event.revision, problem: `${where(event)} is out of global order: it follows position ${this.lastPosition}` });
    }
    this.lastPosition = position;
    const pending = this.pending;
    if (pending && pending.streamName === streamName && this.fills(pending, event)) {
      return this.settle({
        ...pending,
        kind: 'reordered',
        problem: `${pending.problem}; but ${where(event)} is that event: the stream's events were reordered`,
      });
    }

    const head = this.heads.get(streamName);
    const result = checkLink(head, event);
    if (!isChainProblem(result)) {
      // Once per event: move the stream's head in place instead of replacing it in the map.
      if (head) {
        head.revision = result.revision;
        head.hash = result.hash;
        head.prevHash = result.prevHash;
        head.position = position;
      } else {
        this.heads.set(streamName, { ...result, position });
      }
      if (!pending) this.eventsVerified++;
      return true;
    }
    const atHead = result.atHead === true && head !== undefined;
    const finding: Pending = {
      kind: result.kind as ChainVerifyKind,
      firstBadPosition: atHead ? head.position : position,
      streamName,
      revision: result.revision,
      problem: atHead ? `event at position ${head.position} (${streamName}@${head.revision}) ${result.detail}` : `${where(event)} ${result.detail}`,
      missingRevision: result.missingRevision,
      unknownPrevHash: result.unknownPrevHash,
    };
    if (atHead && !pending) this.eventsVerified--;
    if (pending) {
      // Only an inserted event caught late can lie before the pending problem; later problems are not the first.
      if (finding.firstBadPosition < pending.firstBadPosition) return this.settle(finding);
      return true;
    }
    if (finding.missingRevision !== undefined || finding.unknownPrevHash !== undefined) {
      this.pending = finding;
      return true;
    }
    return this.settle(finding);
  }

  /**
   * True while a problem waits for the rest of the log to be classified: a caller that found something else wrong
   * keeps pushing only as long as this holds, since that problem may lie before its own.
   */
  get hasPendingProblem(): boolean {
    return this.pending !== undefined && this.finding === undefined;
  }

  finish(): ChainReport {
    if (!this.finding && this.pending) this.settle(this.pending);
    const counts = { eventsRead: this.eventsRead, eventsVerified: this.eventsVerified, streams: this.heads.size };
    if (!this.finding) return { ok: true, ...counts };
    const { firstBadPosition, kind, streamName, revision, problem } = this.finding;
    return { ok: false, ...counts, firstBadPosition, kind, streamName, revision, problem };
  }

  private fills(pending: Pending, event: ChainRecord): boolean {
    if (pending.missingRevision !== undefined) return event.revision === pending.missingRevision;
    return auditFieldsOf(event)?.hash === pending.unknownPrevHash;
  }

  private settle(finding: Finding): false {
    const { firstBadPosition, kind, streamName, revision, problem } = finding;
    this.finding = { firstBadPosition, kind, streamName, revision, problem };
    return false;
  }
}
