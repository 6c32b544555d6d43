import { createHash } from 'node:crypto';
import { consistencyProofFromLeafHashes, inclusionProofFromLeafHashes, leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../merkle';
import { MerkleProofs } from './evidence-proofs';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(createHash('sha256').update(String(i)).digest()));

describe('MerkleProofs (memoised RFC 9162 proofs)', () => {
  it('gives the same roots, inclusion and consistency proofs as merkle.ts for every tree up to 40 leaves', () => {
    for (let n = 1; n <= 40; n++) {
      const hashes = leaves(n);
      const proofs = new MerkleProofs(hashes);
      const root = rootFromLeafHashes(hashes);
      expect(proofs.root().equals(root)).toBe(true);
      for (let i = 0; i < n; i++) {
        const path = proofs.inclusion(i);
        expect(path).toEqual(inclusionProofFromLeafHashes(i, hashes));
        expect(verifyInclusion(hashes[i], i, n, path, root)).toBe(true);
      }
      for (let m = 0; m <= n; m++) {
        const proof = proofs.consistency(m, n);
        expect(proof).toEqual(consistencyProofFromLeafHashes(m, n, hashes));
        expect(verifyConsistency(m, n, rootFromLeafHashes(hashes.slice(0, m)), root, proof)).toBe(true);
      }
    }
  });

  it('refuses indexes and sizes outside the tree', () => {
    const proofs = new MerkleProofs(leaves(5));
    expect(() => proofs.inclusion(5)).toThrow(RangeError);
    expect(() => proofs.consistency(3, 6)).toThrow(RangeError);
    expect(() => proofs.consistency(4, 3)).toThrow(RangeError);
  });
});
