import { EMPTY_ROOT, Hash, nodeHash } from '../merkle';

/**
 * RFC 9162 inclusion and consistency proofs for many leaves of one tree. merkle.ts recomputes every subtree a
 * proof needs (O(tree size) per proof); a bundle proves every one of its events against the same checkpoint, so
 * here subtree roots are remembered across proofs and a bundle of k events over a tree of n leaves costs O(n + k log n)
 * hashes instead of O(k n). The paths are the same (the spec compares them with merkle.ts).
 */
export class MerkleProofs {
  private readonly memo = new Map<string, Hash>();

  constructor(private readonly hashes: readonly Hash[]) {}

  get size(): number {
    return this.hashes.length;
  }

  root(lo = 0, hi = this.hashes.length): Hash {
    const n = hi - lo;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return this.hashes[lo];
    const key = `${lo}:${hi}`;
    let r = this.memo.get(key);
    if (!r) {
      const k = split(n);
      r = nodeHash(this.root(lo, lo + k), this.root(lo + k, hi));
      this.memo.set(key, r);
    }
    return r;
  }

  /** PATH(index, D[treeSize]), section 2.1.3.1. */
  inclusion(index: number, treeSize = this.hashes.length): Hash[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize || treeSize > this.hashes.length) {
      throw new RangeError(`leaf index ${index} is not in a tree of size ${treeSize}`);
    }
    const path: Hash[] = [];
    const walk = (m: number, lo: number, hi: number): void => {
      if (hi - lo === 1) return;
      const k = split(hi - lo);
      if (m < k) {
        walk(m, lo, lo + k);
        path.push(this.root(lo + k, hi));
      } else {
        walk(m - k, lo + k, hi);
        path.push(this.root(lo, lo + k));
      }
    };
    walk(index, 0, treeSize);
    return path;
  }

  /** PROOF(m, D[n]), section 2.1.4.1; empty for m = 0 or m = n. */
  consistency(m: number, n: number): Hash[] {
    if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n || n > this.hashes.length) {
      throw new RangeError(`no consistency proof from tree size ${m} to ${n} over ${this.hashes.length} leaves`);
    }
    if (m === 0 || m === n) return [];
    const proof: Hash[] = [];
    const sub = (mm: number, lo: number, hi: number, complete: boolean): void => {
      if (mm === hi - lo) {
        if (!complete) proof.push(this.root(lo, hi));
        return;
      }
      const k = split(hi - lo);
      if (mm <= k) {
        sub(mm, lo, lo + k, complete);
        proof.push(this.root(lo + k, hi));
      } else {
        sub(mm - k, lo + k, hi, false);
        proof.push(this.root(lo, lo + k));
      }
    };
    sub(m, 0, n, true);
    return proof;
  }
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
