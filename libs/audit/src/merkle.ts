import { createHash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency 2.0) section 2.1 Merkle trees over SHA-256, with RFC 6962-compatible hashing:
 *
 *   MTH({})      = SHA-256()
 *   MTH({d0})    = SHA-256(0x00 || d0)                       (leaf hash)
 *   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  k = largest power of two smaller than n
 *
 * Inclusion and consistency proofs are generated as sections 2.1.3.1 / 2.1.4.1 define them and verified with the
 * algorithms of sections 2.1.3.2 / 2.1.4.2. Hashes are 32-byte Buffers.
 */
export type Hash = Buffer;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

export function leafHash(leaf: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** Largest power of two strictly smaller than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

/** MTH over leaf hashes hashes[lo:hi]. */
function subtreeRoot(hashes: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return hashes[lo];
  const k = split(n);
  return nodeHash(subtreeRoot(hashes, lo, lo + k), subtreeRoot(hashes, lo + k, hi));
}

/** Root of the tree over leaf data. */
export function rootHash(leaves: readonly Uint8Array[]): Hash {
  return rootFromLeafHashes(leaves.map(leafHash));
}

/** Root of the tree whose leaf hashes are given (already SHA-256(0x00 || leaf)). */
export function rootFromLeafHashes(hashes: readonly Hash[]): Hash {
  return subtreeRoot(hashes, 0, hashes.length);
}

/** PATH(m, D[n]) of section 2.1.3.1: the audit path for leaf `index` in the tree over all `leaves`. */
export function inclusionProof(index: number, leaves: readonly Uint8Array[]): Hash[] {
  return inclusionProofFromLeafHashes(index, leaves.map(leafHash));
}

export function inclusionProofFromLeafHashes(index: number, hashes: readonly Hash[]): Hash[] {
  checkSize(index, 'leaf index');
  if (index >= hashes.length) throw new RangeError(`leaf index ${index} is not below tree size ${hashes.length}`);
  const path: Hash[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = split(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(subtreeRoot(hashes, lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(subtreeRoot(hashes, lo, lo + k));
    }
  };
  walk(index, 0, hashes.length);
  return path;
}

/** Section 2.1.3.2: does `proof` show the leaf with hash `leafHash` at `index` in the tree of `treeSize` with `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  // Halving by division rather than >>: JS bit operators are 32-bit and tree sizes need not be.
  let fn = index;
  let sn = treeSize - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalHashes(r, root);
}

/**
 * PROOF(m, D[n]) of section 2.1.4.1 for 0 < m < n. For m = n the proof is empty (the roots must be equal) and for
 * m = 0 it is empty too (every tree extends the empty one); the RFC leaves both out of scope.
 */
export function consistencyProof(m: number, n: number, leaves: readonly Uint8Array[]): Hash[] {
  return consistencyProofFromLeafHashes(m, n, leaves.map(leafHash));
}

export function consistencyProofFromLeafHashes(m: number, n: number, hashes: readonly Hash[]): Hash[] {
  checkSize(m, 'old tree size');
  checkSize(n, 'new tree size');
  if (m > n) throw new RangeError(`old tree size ${m} is larger than new tree size ${n}`);
  if (n > hashes.length) throw new RangeError(`tree size ${n} is larger than the ${hashes.length} leaves given`);
  if (m === 0 || m === n) return [];
  const proof: Hash[] = [];
  const sub = (mm: number, lo: number, hi: number, complete: boolean): void => {
    const size = hi - lo;
    if (mm === size) {
      if (!complete) proof.push(subtreeRoot(hashes, lo, hi));
      return;
    }
    const k = split(size);
    if (mm <= k) {
      sub(mm, lo, lo + k, complete);
      proof.push(subtreeRoot(hashes, lo + k, hi));
    } else {
      sub(mm - k, lo + k, hi, false);
      proof.push(subtreeRoot(hashes, lo, lo + k));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

/** Section 2.1.4.2: does `proof` show the tree of size `m` with `oldRoot` is a prefix of the tree of size `n` with `newRoot`? */
export function verifyConsistency(m: number, n: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (m === 0) return proof.length === 0;
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot);
  // 1. An empty path proves nothing for 0 < m < n.
  if (proof.length === 0) return false;
  // 2. A perfect old tree is itself the first node of the path.
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof;
  // 3./4.
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 5.
  let fr: Uint8Array = path[0];
  let sr: Uint8Array = path[0];
  // 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // 7.
  return sn === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

export function equalHashes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Appends leaf hashes one at a time and gives the root of the tree over everything appended so far, keeping only
 * the roots of the perfect subtrees the size decomposes into (one per set bit of the size: O(log n) memory).
 * Folding them right to left is MTH, because MTH always splits off the largest perfect left subtree.
 */
export class MerkleAccumulator {
  /** Roots of perfect subtrees, largest (leftmost) first; their sizes are the set bits of `size`, descending. */
  private readonly stack: Hash[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends the hash of one leaf (SHA-256(0x00 || leaf), see {@link leafHash}). */
  appendLeafHash(hash: Uint8Array): void {
    if (hash.length !== HASH_SIZE) throw new RangeError(`a leaf hash has ${HASH_SIZE} bytes, got ${hash.length}`);
    let node: Hash = Buffer.from(hash);
    // Merge equal-sized subtrees like a binary counter carries: once per trailing one bit of the old size.
    for (let n = this.count; n % 2 === 1; n = Math.floor(n / 2)) node = nodeHash(this.stack.pop()!, node);
    this.stack.push(node);
    this.count++;
  }

  appendLeaf(leaf: Uint8Array): void {
    this.appendLeafHash(leafHash(leaf));
  }

  root(): Hash {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let r = this.stack[this.stack.length - 1];
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i], r);
    return r;
  }
}
