import type { Position, RecordedEvent } from '@cmk/event-store/event-store.port';
import { checkpointPayload, checkpointShapeProblem, SignedCheckpoint, VerifySignature } from './checkpoint';
import { ChainHead, ChainProblemKind, checkLink, isChainProblem } from './hash-chain';
import { leafHash, MerkleAccumulator } from './merkle';

/**
 * Offline verification of an exported log: every event in global order plus the sealer's signed checkpoints.
 *
 * - Global positions strictly increase (gaps are normal: a bigserial skips values of rolled-back inserts).
 * - Every stream's hash chain holds (see hash-chain.ts): catches modified, deleted, inserted and reordered events
 *   inside a stream.
 * - Every checkpoint is validly signed and its root equals the RFC 9162 root over the chain hashes of the first
 *   treeSize events: catches what a chain cannot (the last events of a stream or of the log deleted, whole streams
 *   dropped, events re-chained by someone who can write metadata, order changed across streams).
 *
 * Events after the last checkpoint are only as good as their chains. Memory is O(streams + log n): events can be
 * pushed one at a time from a paged read ({@link LogVerifier}).
 */
export type LogProblemKind =
  | ChainProblemKind
  | 'position-not-increasing'
  | 'checkpoint-malformed'
  | 'checkpoint-signature'
  | 'checkpoint-root'
  | 'checkpoint-beyond-log';

export interface LogReport {
  ok: boolean;
  /**
   * The first position that is not proven. For an event problem, that event. For a checkpoint whose root does not
   * match, the first event after the last checkpoint that did match (something from there up to the checkpoint's
   * last event is wrong; the chains alone cannot say what). Absent when the problem is not an event: a bad signature,
   * or a checkpoint that covers more events than the log holds.
   */
  firstBadPosition?: bigint;
  problem?: string;
  kind?: LogProblemKind;
  /** The offending checkpoint, by its index in the array given. */
  checkpoint?: { index: number; treeSize: number };
  eventsVerified: number;
  checkpointsVerified: number;
}

export interface VerifyLogOptions {
  verifySignature: VerifySignature;
}

export function verifyLog(
  events: Iterable<RecordedEvent>,
  checkpoints: readonly SignedCheckpoint[],
  options: VerifyLogOptions,
): LogReport {
  const verifier = new LogVerifier(checkpoints, options);
  for (const event of events) if (!verifier.push(event)) break;
  return verifier.finish();
}

type Failure = Omit<LogReport, 'ok' | 'eventsVerified' | 'checkpointsVerified'>;

/** Incremental form of {@link verifyLog}: push events in global order, then finish. */
export class LogVerifier {
  private readonly heads = new Map<string, ChainHead & { position: Position }>();
  private readonly tree = new MerkleAccumulator();
  /** Checkpoints by ascending treeSize, each with its index in the caller's array. */
  private readonly pending: { index: number; checkpoint: SignedCheckpoint }[];
  private next = 0;
  private lastPosition: bigint | undefined;
  /** Position of the first event no matching checkpoint covers yet. */
  private firstUnproven: bigint | undefined;
  private checkpointsVerified = 0;
  private failure: Failure | undefined;

  constructor(
    checkpoints: readonly SignedCheckpoint[],
    private readonly options: VerifyLogOptions,
  ) {
    checkpoints.forEach((checkpoint, index) => {
      const shape = checkpointShapeProblem(checkpoint);
      if (shape && !this.failure) {
        this.failure = { kind: 'checkpoint-malformed', problem: `checkpoint #${index} is malformed: ${shape}`, checkpoint: { index, treeSize: checkpoint?.treeSize } };
      }
    });
    this.pending = checkpoints.map((checkpoint, index) => ({ index, checkpoint })).sort((a, b) => a.checkpoint.treeSize - b.checkpoint.treeSize);
    if (!this.failure) this.checkDueCheckpoints();
  }

  /** Checks one more event; false once a problem was found (further pushes are ignored). */
  push(event: RecordedEvent): boolean {
    if (this.failure) return false;
    const { position } = event;
    const where = `event at position ${position} (${event.streamName}@${event.revision})`;
    if (this.lastPosition !== undefined && position <= this.lastPosition) {
      return this.fail({
        kind: 'position-not-increasing',
        firstBadPosition: position,
        problem: `${where} is out of global order: it follows position ${this.lastPosition}`,
      });
    }
    this.lastPosition = position;
    this.firstUnproven ??= position;

    const head = this.heads.get(event.streamName);
    const result = checkLink(head, event);
    if (isChainProblem(result)) {
      if (result.atHead && head) {
        return this.fail({ kind: result.kind, firstBadPosition: head.position, problem: `event at position ${head.position} (${event.streamName}@${head.revision}) ${result.detail}` });
      }
      return this.fail({ kind: result.kind, firstBadPosition: position, problem: `${where} ${result.detail}` });
    }
    this.heads.set(event.streamName, { ...result, position });

    this.tree.appendLeafHash(leafHash(Buffer.from(result.hash, 'hex')));
    return this.checkDueCheckpoints();
  }

  finish(): LogReport {
    if (!this.failure && this.next < this.pending.length) {
      const { index, checkpoint } = this.pending[this.next];
      this.failure = {
        kind: 'checkpoint-beyond-log',
        checkpoint: { index, treeSize: checkpoint.treeSize },
        problem:
          `checkpoint #${index} (signed ${checkpoint.time} by ${checkpoint.keyId}) covers ${checkpoint.treeSize} events ` +
          `but the log holds only ${this.tree.size}: events at the end of the log were deleted`,
      };
    }
    const counts = { eventsVerified: this.tree.size, checkpointsVerified: this.checkpointsVerified };
    return this.failure ? { ok: false, ...this.failure, ...counts } : { ok: true, ...counts };
  }

  private checkDueCheckpoints(): boolean {
    const size = this.tree.size;
    while (this.next < this.pending.length && this.pending[this.next].checkpoint.treeSize === size) {
      const { index, checkpoint } = this.pending[this.next];
      const named = `checkpoint #${index} (treeSize ${size}, signed ${checkpoint.time} by ${checkpoint.keyId})`;
      const ref = { index, treeSize: size };
      if (!this.options.verifySignature(checkpointPayload(checkpoint), checkpoint.signature, checkpoint.keyId)) {
        return this.fail({ kind: 'checkpoint-signature', checkpoint: ref, problem: `${named} has an invalid signature (forged, altered or signed by an unknown key)` });
      }
      const root = this.tree.root().toString('hex');
      if (root !== checkpoint.rootHash) {
        const range = this.firstUnproven === undefined ? '' : `; the events from position ${this.firstUnproven} to ${this.lastPosition} were altered, removed, added or reordered`;
        return this.fail({
          kind: 'checkpoint-root',
          checkpoint: ref,
          firstBadPosition: this.firstUnproven,
          problem: `${named} does not match the log: signed root ${checkpoint.rootHash}, recomputed ${root}${range}`,
        });
      }
      this.checkpointsVerified++;
      this.firstUnproven = undefined;
      this.next++;
    }
    return true;
  }

  private fail(failure: Failure): false {
    this.failure = failure;
    return false;
  }
}
