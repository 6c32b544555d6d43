import { createHash, hash as oneShotHash } from 'node:crypto';
import { EMPTY_ROOT, Hash, nodeHash } from '../merkle';

// Digests as one-byte strings: a Buffer per digest costs more to allocate than the 33- or 65-byte hash itself.
const sha256Latin1: (data: Uint8Array) => string =
  typeof oneShotHash === 'function' ? (data) => oneShotHash('sha256', data, 'binary') : (data) => createHash('sha256').update(data).digest('binary');

/**
 * The RFC 9162 root over chain hashes, the same tree as {@link MerkleAccumulator} (merkle.ts) fed leafHash(chain
 * hash), built for a walk that adds every event of the log: the chain hash is written straight from its hex into
 * a reused `0x00 || leaf` buffer and every hash is one one-shot call over a reused input, its digest kept as a
 * one-byte string, instead of a streaming hash object and a Buffer copy per leaf and per node. The spec checks both give the same roots.
 */
export class ChainHashTree {
  /** Roots of perfect subtrees (32-byte digests as latin1 strings), largest (leftmost) first, one per set bit of `size`. */
  private readonly stack: string[] = [];
  private count = 0;
  private readonly leafInput = Buffer.alloc(33);
  private readonly nodeInput = Buffer.alloc(65);

  constructor() {
    this.leafInput[0] = 0x00;
    this.nodeInput[0] = 0x01;
  }

  get size(): number {
    return this.count;
  }

  /** Appends the leaf whose data is the 32-byte chain hash given as 64 lower-case hex digits (checked by the caller). */
  appendChainHash(hex: string): void {
    this.leafInput.write(hex, 1, 32, 'hex');
    let node = sha256Latin1(this.leafInput);
    for (let n = this.count; n % 2 === 1; n = Math.floor(n / 2)) {
      this.nodeInput.write(this.stack.pop()!, 1, 32, 'latin1');
      this.nodeInput.write(node, 33, 32, 'latin1');
      node = sha256Latin1(this.nodeInput);
    }
    this.stack.push(node);
    this.count++;
  }

  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT;
    const bytes = (digest: string) => Buffer.from(digest, 'latin1');
    let r: Hash = bytes(this.stack[this.stack.length - 1]);
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(bytes(this.stack[i]), r);
    return r;
  }
}
