import { createHash } from 'node:crypto';
import { leafHash, MerkleAccumulator } from '../merkle';
import { ChainHashTree } from './chain-hash-tree';

describe('ChainHashTree', () => {
  it('gives the root MerkleAccumulator gives over leafHash(chain hash), at every size from 0 to 300', () => {
    const fast = new ChainHashTree();
    const reference = new MerkleAccumulator();
    expect(fast.root().equals(reference.root())).toBe(true);
    for (let i = 0; i < 300; i++) {
      const chain = createHash('sha256').update(`event ${i}`).digest();
      fast.appendChainHash(chain.toString('hex'));
      reference.appendLeafHash(leafHash(chain));
      expect(fast.size).toBe(reference.size);
      expect(fast.root().toString('hex')).toBe(reference.root().toString('hex'));
    }
  });

  it('changes its root when any one leaf differs', () => {
    const roots = new Set<string>();
    for (let changed = 0; changed < 7; changed++) {
      const tree = new ChainHashTree();
      for (let i = 0; i < 7; i++) tree.appendChainHash((i === changed ? 'ff' : '00').repeat(32));
      roots.add(tree.root().toString('hex'));
    }
    expect(roots.size).toBe(7);
  });
});
