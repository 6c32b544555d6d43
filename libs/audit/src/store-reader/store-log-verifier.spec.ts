import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { auditLeaf } from '../audit-leaf';
import { generateEd25519Signer, signCheckpoint } from '../ed25519';
import { leafHash, MerkleAccumulator } from '../merkle';
import { chainedLog } from '../testing/chained-log';
import { StoredCheckpoint, StoreLogVerifier, StoreVerifyReport } from './store-log-verifier';

const signer = generateEd25519Signer();
/** 10 leaf events over two tenants, positions 10, 20, ... */
const LEAVES = chainedLog(Array.from({ length: 10 }, (_, i) => ({ stream: `tenant-${'ab'[i % 2]}`, data: { i } })), 10n);

function checkpointOver(leaves: readonly RecordedEvent[], eventPosition: bigint, revision: number): StoredCheckpoint {
  const tree = new MerkleAccumulator();
  for (const e of leaves) tree.appendLeafHash(leafHash(auditLeaf(e)));
  const signed = signCheckpoint({ treeSize: leaves.length, rootHash: tree.root().toString('hex'), time: '2026-01-01T00:00:00.000Z' }, signer);
  return { ...signed, lastPosition: leaves[leaves.length - 1].position.toString(), eventPosition, eventRevision: revision };
}

const CHECKPOINTS = [checkpointOver(LEAVES.slice(0, 4), 45n, 0), checkpointOver(LEAVES.slice(0, 8), 85n, 1)];

function walk(events: readonly RecordedEvent[], checkpoints: readonly StoredCheckpoint[] = CHECKPOINTS, publicKeys = [signer.publicKey]): StoreVerifyReport {
  const verifier = new StoreLogVerifier(checkpoints, { publicKeys });
  for (const e of events) if (!verifier.push(e)) break;
  return verifier.finish();
}

describe('StoreLogVerifier (chains, checkpoints and their order of findings)', () => {
  it('an intact log: both checkpoints verified, the two events after the last one chain-proven only', () => {
    expect(walk(LEAVES)).toEqual({
      ok: true,
      eventsRead: 10,
      leaves: 10,
      streams: 2,
      checkpoints: { recorded: 2, verified: 2, signaturesChecked: true },
      lastVerifiedCheckpoint: { treeSize: 8, lastPosition: '80', time: '2026-01-01T00:00:00.000Z', keyId: signer.keyId },
      leavesAfterLastCheckpoint: 2,
      finding: undefined,
      findings: [],
    });
  });

  it('order changed across streams, which no chain sees: the root does not match, the range starts after the last good checkpoint', () => {
    const swapped = [...LEAVES];
    [swapped[4], swapped[5]] = [{ ...LEAVES[5], position: 50n }, { ...LEAVES[4], position: 60n }];
    const report = walk(swapped);
    expect(report.ok).toBe(false);
    expect(report.findings).toHaveLength(1);
    expect(report.finding).toMatchObject({ kind: 'checkpoint-root', firstBadPosition: 50n, checkpoint: { treeSize: 8, eventPosition: 85n } });
    expect(report.finding!.problem).toContain('something from the checkpoint of treeSize 4 up to position 80');
  });

  it('positions renumbered (not hashed): the checkpoint names another last position', () => {
    const renumbered = LEAVES.map((e) => (e.position >= 50n ? { ...e, position: e.position + 1n } : e));
    expect(walk(renumbered).finding).toMatchObject({ kind: 'checkpoint-last-position', firstBadPosition: 81n, checkpoint: { treeSize: 8 } });
  });

  it('a chain problem before a checkpoint problem comes first, and both are listed', () => {
    const events = LEAVES.filter((e) => e.position !== 30n); // tenant-a@1: a gap at tenant-a@2, position 50
    const report = walk(events);
    expect(report.findings.map((f) => [f.kind, f.firstBadPosition])).toEqual([
      ['deleted', 50n],
      ['checkpoint-root', 10n],
    ]);
  });

  it('a malformed checkpoint does not hide a chain problem in the events before it', () => {
    const events = LEAVES.map((e) => (e.position === 20n ? { ...e, data: { i: 'forged' } } : e));
    const malformed = { ...CHECKPOINTS[1], rootHash: 'not hex' };
    const report = walk(events, [CHECKPOINTS[0], malformed]);
    expect(report.findings.map((f) => f.kind)).toEqual(['modified', 'checkpoint-malformed']);
    expect(report.finding).toMatchObject({ firstBadPosition: 20n });
  });

  it('without keys the roots are still checked and the report says signatures were not', () => {
    const report = new StoreLogVerifier(CHECKPOINTS, {});
    for (const e of LEAVES) report.push(e);
    expect(report.finish()).toMatchObject({ ok: true, checkpoints: { verified: 2, signaturesChecked: false } });
  });

  it('a checkpoint whose tree is larger than the log: the end of the log was deleted', () => {
    expect(walk(LEAVES.slice(0, 7)).finding).toMatchObject({ kind: 'checkpoint-beyond-log', checkpoint: { treeSize: 8 } });
  });
});
