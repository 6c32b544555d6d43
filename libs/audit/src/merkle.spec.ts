import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  consistencyProof,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleAccumulator,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`leaf-${i}`));
const flipped = (b: Uint8Array, byte = 0) => {
  const copy = Buffer.from(b);
  copy[byte] ^= 0x01;
  return copy;
};

/** The RFC 6962 / 9162 test leaves used by the Certificate Transparency implementations. */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('Merkle tree hash (RFC 9162 section 2.1.1)', () => {
  it('the empty tree hashes to SHA-256 of the empty string', () => {
    expect(hex(rootHash([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(new MerkleAccumulator().root())).toBe(hex(EMPTY_ROOT));
  });

  it('domain-separates leaves (0x00) and nodes (0x01)', () => {
    const leaf = Buffer.from('x');
    expect(hex(rootHash([leaf]))).toBe(createHash('sha256').update(Buffer.from([0x00])).update(leaf).digest('hex'));
    expect(hex(nodeHash(leafHash(leaf), leafHash(leaf)))).toBe(
      createHash('sha256').update(Buffer.concat([Buffer.from([0x01]), leafHash(leaf), leafHash(leaf)])).digest('hex'),
    );
  });

  it.each(CT_ROOTS.map((root, i) => [i + 1, root] as const))('the CT reference tree of %i leaves has root %s (recursive and accumulated)', (n, root) => {
    expect(hex(rootHash(CT_LEAVES.slice(0, n)))).toBe(root);
    const acc = new MerkleAccumulator();
    CT_LEAVES.slice(0, n).forEach((leaf) => acc.appendLeaf(leaf));
    expect(hex(acc.root())).toBe(root);
  });

  it('splits at the largest power of two below n (n = 5: a perfect 4 on the left, the 5th leaf on the right)', () => {
    const l = leavesOf(5).map(leafHash);
    const left = nodeHash(nodeHash(l[0], l[1]), nodeHash(l[2], l[3]));
    expect(hex(rootHash(leavesOf(5)))).toBe(hex(nodeHash(left, l[4])));
  });
});

describe('MerkleAccumulator', () => {
  it('gives the same root as the recursive definition at every size up to 70, keeping one root per set bit', () => {
    const leaves = leavesOf(70);
    const acc = new MerkleAccumulator();
    for (let n = 1; n <= leaves.length; n++) {
      acc.appendLeaf(leaves[n - 1]);
      expect(acc.size).toBe(n);
      expect(hex(acc.root())).toBe(hex(rootHash(leaves.slice(0, n))));
      const stack = (acc as unknown as { stack: unknown[] }).stack;
      expect(stack).toHaveLength(n.toString(2).replace(/0/g, '').length);
    }
  });

  it('refuses a leaf hash of the wrong size', () => {
    expect(() => new MerkleAccumulator().appendLeafHash(Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe('inclusion proofs (RFC 9162 section 2.1.3)', () => {
  it('verify for every (index, size) up to 20, and no tampered proof does', () => {
    const all = leavesOf(20);
    for (let size = 1; size <= 20; size++) {
      const leaves = all.slice(0, size);
      const root = rootHash(leaves);
      for (let index = 0; index < size; index++) {
        const leaf = leafHash(leaves[index]);
        const proof = inclusionProof(index, leaves);
        expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);

        expect(verifyInclusion(flipped(leaf), index, size, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof, flipped(root))).toBe(false);
        proof.forEach((_, i) => expect(verifyInclusion(leaf, index, size, proof.map((p, j) => (j === i ? flipped(p, 31) : p)), root)).toBe(false));
        if (proof.length > 0) expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, [...proof, leaf], root)).toBe(false);
        for (let other = 0; other < size; other++) if (other !== index) expect(verifyInclusion(leaf, other, size, proof, root)).toBe(false);
        // (A wrong treeSize with the same path shape can compute the same root: the signed tree head binds size to root.)
        if (size < 20) expect(verifyInclusion(leaf, index, size + 1, proof, rootHash(all.slice(0, size + 1)))).toBe(false);
        expect(verifyInclusion(leaf, index, index, proof, root)).toBe(false);
      }
    }
  });

  it('matches PATH for a small tree worked by hand (leaf 2 of 5)', () => {
    const l = leavesOf(5).map(leafHash);
    expect(inclusionProof(2, leavesOf(5)).map(hex)).toEqual([l[3], nodeHash(l[0], l[1]), l[4]].map(hex));
  });

  it('refuses an index outside the tree', () => {
    expect(() => inclusionProof(3, leavesOf(3))).toThrow(RangeError);
    expect(verifyInclusion(leafHash(Buffer.from('x')), -1, 3, [], EMPTY_ROOT)).toBe(false);
  });
});

describe('consistency proofs (RFC 9162 section 2.1.4)', () => {
  it('verify for every 1 <= m <= n <= 20, and no tampered proof does', () => {
    const leaves = leavesOf(20);
    const roots = [EMPTY_ROOT, ...leaves.map((_, i) => rootHash(leaves.slice(0, i + 1)))];
    for (let n = 1; n <= 20; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, n, leaves);
        expect(verifyConsistency(m, n, roots[m], roots[n], proof)).toBe(true);
        expect(verifyConsistency(m, n, flipped(roots[m]), roots[n], proof)).toBe(false);
        expect(verifyConsistency(m, n, roots[m], flipped(roots[n]), proof)).toBe(false);
        if (m === n) {
          expect(proof).toEqual([]);
          continue;
        }
        proof.forEach((_, i) => expect(verifyConsistency(m, n, roots[m], roots[n], proof.map((p, j) => (j === i ? flipped(p, 7) : p)))).toBe(false));
        expect(verifyConsistency(m, n, roots[m], roots[n], proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], [...proof, roots[m]])).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], [])).toBe(false);
        if (m + 1 < n) expect(verifyConsistency(m + 1, n, roots[m + 1], roots[n], proof)).toBe(false);
        expect(verifyConsistency(m, n - 1, roots[m], roots[n - 1], proof)).toBe(false);
      }
    }
  });

  it('matches PROOF for the RFC 9162 section 2.1.5 example tree of 7 leaves', () => {
    // The RFC's figure: leaves a..f and d6; g = (a,b), h = (c,d), i = (e,f), j = d6, k = (g,h), l = (i,j).
    const [a, b, c, d, e, f, j] = CT_LEAVES.slice(0, 7).map(leafHash);
    const [g, h, i] = [nodeHash(a, b), nodeHash(c, d), nodeHash(e, f)];
    const [k, l] = [nodeHash(g, h), nodeHash(i, j)];
    const leaves = CT_LEAVES.slice(0, 7);
    expect(consistencyProof(3, 7, leaves).map(hex)).toEqual([c, d, g, l].map(hex));
    expect(consistencyProof(4, 7, leaves).map(hex)).toEqual([l].map(hex));
    expect(consistencyProof(6, 7, leaves).map(hex)).toEqual([i, j, k].map(hex));
    // And the inclusion example: PATH(0) = [b, h, l], PATH(3) = [c, g, l], PATH(4) = [f, j, k], PATH(6) = [i, k].
    expect(inclusionProof(0, leaves).map(hex)).toEqual([b, h, l].map(hex));
    expect(inclusionProof(3, leaves).map(hex)).toEqual([c, g, l].map(hex));
    expect(inclusionProof(4, leaves).map(hex)).toEqual([f, j, k].map(hex));
    expect(inclusionProof(6, leaves).map(hex)).toEqual([i, k].map(hex));
  });

  it('treats the empty old tree as consistent with anything (empty proof only) and refuses m > n', () => {
    const leaves = leavesOf(4);
    expect(consistencyProof(0, 4, leaves)).toEqual([]);
    expect(verifyConsistency(0, 4, EMPTY_ROOT, rootHash(leaves), [])).toBe(true);
    expect(verifyConsistency(0, 4, EMPTY_ROOT, rootHash(leaves), [EMPTY_ROOT])).toBe(false);
    expect(() => consistencyProof(5, 4, leaves)).toThrow(RangeError);
    expect(verifyConsistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
  });
});

describe('properties (fast-check)', () => {
  const tree = fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 1, maxLength: 150 });

  it('accumulator root = recursive root; every inclusion and consistency proof verifies', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), (leaves, a, b) => {
        const n = leaves.length;
        const acc = new MerkleAccumulator();
        leaves.forEach((leaf) => acc.appendLeaf(leaf));
        const root = rootHash(leaves);
        expect(hex(acc.root())).toBe(hex(root));

        const index = a % n;
        expect(verifyInclusion(leafHash(leaves[index]), index, n, inclusionProof(index, leaves), root)).toBe(true);

        const m = (b % n) + 1;
        const oldRoot = rootHash(leaves.slice(0, m));
        expect(verifyConsistency(m, n, oldRoot, root, consistencyProof(m, n, leaves))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a proof with any single bit flipped never verifies', () => {
    fc.assert(
      fc.property(tree, fc.nat(), fc.nat(), fc.nat(), (leaves, a, which, bit) => {
        const n = leaves.length;
        const index = a % n;
        const proof = inclusionProof(index, leaves);
        fc.pre(proof.length > 0);
        const k = which % proof.length;
        const bad = proof.map((p, j) => {
          if (j !== k) return p;
          const copy = Buffer.from(p);
          copy[(bit >> 3) % 32] ^= 1 << (bit & 7);
          return copy;
        });
        expect(verifyInclusion(leafHash(leaves[index]), index, n, bad, rootHash(leaves))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
