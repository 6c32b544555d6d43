import type { KeyObject } from 'node:crypto';
import type { Position } from '@cmk/event-store/event-store.port';
import { CHECKPOINT_CATEGORY, isLeafEvent } from '../audit-leaf';
import { ChainRecord, ChainVerifyKind, ChainWalker } from '../chain-verifier';
import { checkpointPayload, checkpointShapeProblem, SignedCheckpoint } from '../checkpoint';
import { ed25519KeyId, ed25519Verify } from '../ed25519';
import { AUDIT_METADATA_KEY, AuditFields } from '../hash-chain';
import { ChainHashTree } from './chain-hash-tree';

/**
 * Verifies a whole store as it lies on disk: every event in global order (every stream's hash chain, the checkpoint
 * stream's included) and every checkpoint the sealer recorded in `auditcheckpoint-log` (signature, Merkle root over
 * the chain hashes of the first treeSize leaf events, and the position of the last leaf it names).
 *
 * Findings are ordered by where in the log they show: a chain problem at its first bad position, a checkpoint
 * problem at the last leaf it covers (where it is checked). The first of them is THE report; a chain problem still
 * waiting for the rest of the log to be classified is walked to the end even after a checkpoint failed, because it
 * may lie before it. Memory is one chain head per stream plus O(log n) for the tree.
 */
export type StoreProblemKind =
  | ChainVerifyKind
  | 'checkpoint-malformed'
  | 'checkpoint-signature'
  | 'checkpoint-unknown-key'
  | 'checkpoint-root'
  | 'checkpoint-last-position'
  | 'checkpoint-beyond-log'
  /** Fewer events signed than the operator knows were (cmk audit verify --min-tree-size). */
  | 'checkpoint-missing';

/** A checkpoint as recorded in the store: the signed fields, plus where its event sits. */
export interface StoredCheckpoint extends SignedCheckpoint {
  /** Global position of the leaf event treeSize - 1, as the sealer recorded it (not signed). */
  lastPosition?: string;
  /** Where the AuditCheckpointSigned event itself is. */
  eventPosition: Position;
  eventRevision: number;
}

export interface StoreFinding {
  kind: StoreProblemKind;
  problem: string;
  /** The first event not proven; absent for a checkpoint problem that is not about events (signature, beyond the log). */
  firstBadPosition?: Position;
  streamName?: string;
  revision?: number;
  checkpoint?: { treeSize: number; eventPosition: Position; keyId: string };
}

/** How checkpoint signatures were checked: against keys the operator gave, keys found beside the store, or not at all. */
export type SignatureTrust = 'operator-key' | 'store-key' | 'unchecked';

export interface StoreVerifyOptions {
  /** Public keys signatures are checked against; undefined = signatures are not checked (roots still are). */
  publicKeys?: readonly KeyObject[];
}

export interface StoreVerifyReport {
  ok: boolean;
  eventsRead: number;
  /** Events that are leaves of the audit tree (everything but the checkpoint stream). */
  leaves: number;
  streams: number;
  checkpoints: { recorded: number; verified: number; signaturesChecked: boolean };
  /** The last checkpoint whose signature and root held: everything up to it is proven by a signed statement. */
  lastVerifiedCheckpoint?: { treeSize: number; lastPosition?: string; time: string; keyId: string };
  /** Leaf events after the last verified checkpoint: proven by their hash chains only. */
  leavesAfterLastCheckpoint: number;
  finding?: StoreFinding;
  /** Every finding, in log order (at most one chain problem and one checkpoint problem). */
  findings: StoreFinding[];
}

interface Located extends StoreFinding {
  /** Where in the walk it shows, for ordering; Infinity for "after the end of the log". */
  at: number | bigint;
}

const HEX_HASH = /^[0-9a-f]{64}$/;
/** Stands in for a leaf whose chain fields are missing: only reachable while a chain problem is pending. */
const NO_LEAF = '0'.repeat(64);

export class StoreLogVerifier {
  private readonly chain = new ChainWalker();
  private readonly tree = new ChainHashTree();
  private readonly keys: Map<string, KeyObject> | undefined;
  /** Checkpoints by ascending treeSize. */
  private readonly due: StoredCheckpoint[];
  private next = 0;
  private eventsRead = 0;
  private lastLeafPosition: Position | undefined;
  private lastVerified: StoredCheckpoint | undefined;
  private checkpointsVerified = 0;
  private checkpointFinding: Located | undefined;
  private chainDone = false;
  /** Position of the first leaf after the last verified checkpoint: where an unmatched root's range starts. */
  private firstUnproven: Position | undefined;

  constructor(
    private readonly checkpoints: readonly StoredCheckpoint[],
    options: StoreVerifyOptions,
  ) {
    this.keys = options.publicKeys ? new Map(options.publicKeys.map((k) => [ed25519KeyId(k), k])) : undefined;
    for (const checkpoint of checkpoints) {
      const shape = checkpointShapeProblem(checkpoint);
      if (shape && !this.checkpointFinding) {
        this.checkpointFinding = {
          kind: 'checkpoint-malformed',
          problem: `checkpoint recorded at position ${checkpoint.eventPosition} (${CHECKPOINT_CATEGORY}-log@${checkpoint.eventRevision}) is malformed: ${shape}`,
          checkpoint: ref(checkpoint),
          // Malformed is known before reading a single event, but it says nothing about the events before it.
          at: checkpoint.eventPosition,
        };
      }
    }
    this.due = this.checkpointFinding ? [] : [...checkpoints].sort((a, b) => a.treeSize - b.treeSize);
    this.checkDue();
  }

  /** Checks one more event (global order); false once nothing further can change the verdict. */
  push(event: ChainRecord): boolean {
    if (this.chainDone) return false;
    this.eventsRead++;
    if (!this.chain.push(event)) {
      this.chainDone = true;
      return false;
    }
    if (!this.checkpointFinding && isLeafEvent(event.streamName)) {
      const fields = event.metadata?.[AUDIT_METADATA_KEY] as Partial<AuditFields> | undefined;
      // Only a pending chain problem lets an event without chain fields through; the tree cannot go on from there.
      const leaf = typeof fields?.hash === 'string' && HEX_HASH.test(fields.hash) ? fields.hash : NO_LEAF;
      this.lastLeafPosition = event.position;
      this.tree.appendChainHash(leaf);
      this.checkDue();
    }
    // After a checkpoint failed, only a chain problem that may lie before it is worth reading on for: one still
    // pending, or one of an event before the place the checkpoint problem shows (a malformed checkpoint's own event).
    const failed = this.checkpointFinding;
    return !failed || this.chain.hasPendingProblem || (typeof failed.at === 'bigint' && event.position < failed.at);
  }

  finish(): StoreVerifyReport {
    const chain = this.chain.finish();
    if (!this.checkpointFinding && this.next < this.due.length) {
      const checkpoint = this.due[this.next];
      this.checkpointFinding = {
        kind: 'checkpoint-beyond-log',
        problem:
          `checkpoint of treeSize ${checkpoint.treeSize} (signed ${checkpoint.time} by ${checkpoint.keyId}) covers more events than ` +
          `the log holds (${this.tree.size}): events at the end of the log were deleted`,
        checkpoint: ref(checkpoint),
        at: Infinity,
      };
    }
    const findings: Located[] = [];
    if (!chain.ok) {
      findings.push({ kind: chain.kind!, problem: chain.problem!, firstBadPosition: chain.firstBadPosition, streamName: chain.streamName, revision: chain.revision, at: chain.firstBadPosition! });
    }
    if (this.checkpointFinding) findings.push(this.checkpointFinding);
    // Stable: on a tie the chain problem (it names the event) comes first.
    findings.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const clean = findings.map(({ at: _at, ...f }) => f);
    const last = this.lastVerified;
    return {
      ok: clean.length === 0,
      eventsRead: this.eventsRead,
      leaves: this.tree.size,
      streams: chain.streams,
      checkpoints: { recorded: this.checkpoints.length, verified: this.checkpointsVerified, signaturesChecked: this.keys !== undefined },
      lastVerifiedCheckpoint: last && { treeSize: last.treeSize, lastPosition: last.lastPosition, time: last.time, keyId: last.keyId },
      leavesAfterLastCheckpoint: this.tree.size - (last?.treeSize ?? 0),
      finding: clean[0],
      findings: clean,
    };
  }

  private checkDue(): void {
    const size = this.tree.size;
    if (this.firstUnproven === undefined && size > (this.lastVerified?.treeSize ?? 0)) this.firstUnproven = this.lastLeafPosition;
    while (!this.checkpointFinding && this.next < this.due.length && this.due[this.next].treeSize === size) {
      const checkpoint = this.due[this.next];
      const named = `checkpoint of treeSize ${size} recorded at position ${checkpoint.eventPosition} (signed ${checkpoint.time} by ${checkpoint.keyId})`;
      const at = this.lastLeafPosition ?? 0n;
      const fail = (kind: StoreProblemKind, problem: string, firstBadPosition?: Position) => {
        this.checkpointFinding = { kind, problem, checkpoint: ref(checkpoint), firstBadPosition, at };
      };
      if (this.keys) {
        const key = this.keys.get(checkpoint.keyId);
        if (!key) {
          fail('checkpoint-unknown-key', `${named} names key ${checkpoint.keyId}, which is not a trusted key (${[...this.keys.keys()].join(', ')})`);
          return;
        }
        if (!ed25519Verify(key, checkpointPayload(checkpoint), checkpoint.signature)) {
          fail('checkpoint-signature', `${named} has an invalid signature (forged or altered)`);
          return;
        }
      }
      const root = this.tree.root().toString('hex');
      if (root !== checkpoint.rootHash) {
        const since = this.lastVerified === undefined ? 'the start of the log' : `the checkpoint of treeSize ${this.lastVerified.treeSize}`;
        fail(
          'checkpoint-root',
          `${named} does not match the log: signed root ${checkpoint.rootHash}, recomputed ${root}; ` +
            `something from ${since} up to position ${at} was altered, removed, added or reordered`,
          this.firstUnproven,
        );
        return;
      }
      if (checkpoint.lastPosition !== undefined && checkpoint.lastPosition !== String(at)) {
        fail('checkpoint-last-position', `${named} says its last event is at position ${checkpoint.lastPosition}, but leaf ${size - 1} is at position ${at}: positions were renumbered`, at);
        return;
      }
      this.checkpointsVerified++;
      this.lastVerified = checkpoint;
      this.firstUnproven = undefined;
      this.next++;
    }
  }
}

function ref(checkpoint: StoredCheckpoint) {
  return { treeSize: checkpoint.treeSize, eventPosition: checkpoint.eventPosition, keyId: checkpoint.keyId };
}
