import type { RecordedEvent } from '@cmk/event-store';
import { SignedCheckpoint } from './checkpoint';
import { ed25519SignatureVerifier, generateEd25519Signer, signCheckpoint } from './ed25519';
import { auditFieldsOf } from './hash-chain';
import { rootHash } from './merkle';
import { chainedLog, copyLog, rechain } from './testing/chained-log';
import { LogVerifier, verifyLog } from './verifier';

const signer = generateEd25519Signer();
const verifySignature = ed25519SignatureVerifier([signer.publicKey]);

/** 12 events over three tenants, interleaved, positions 10, 20, ... (gaps are normal in a bigserial). */
const LOG = chainedLog(
  Array.from({ length: 12 }, (_, i) => ({ stream: `tenant-${'abc'[i % 3]}`, type: 'TenantUpdated', data: { i } })),
  10n,
);

function checkpointOver(events: readonly RecordedEvent[], treeSize: number, time = `2025-01-01T00:00:${String(treeSize).padStart(2, '0')}.000Z`): SignedCheckpoint {
  const leaves = events.slice(0, treeSize).map((e) => Buffer.from(auditFieldsOf(e)!.hash, 'hex'));
  return signCheckpoint({ treeSize, rootHash: rootHash(leaves).toString('hex'), time }, signer);
}
/** Checkpoints at 4, 8 and 12 events, signed over the untampered log. */
const CHECKPOINTS = [4, 8, 12].map((n) => checkpointOver(LOG, n));
const verify = (events: RecordedEvent[], checkpoints = CHECKPOINTS) => verifyLog(events, checkpoints, { verifySignature });

describe('verifyLog', () => {
  it('accepts the untampered log with all its checkpoints, in any order, and with none', () => {
    expect(verify(LOG)).toEqual({ ok: true, eventsVerified: 12, checkpointsVerified: 3 });
    expect(verify(LOG, [...CHECKPOINTS].reverse())).toMatchObject({ ok: true, checkpointsVerified: 3 });
    expect(verify(LOG, [])).toEqual({ ok: true, eventsVerified: 12, checkpointsVerified: 0 });
    expect(verify([], [checkpointOver([], 0)])).toEqual({ ok: true, eventsVerified: 0, checkpointsVerified: 1 });
  });

  it('modified data: names the event, its stream and revision, and both hashes', () => {
    const events = copyLog(LOG);
    (events[5].data as { i: number }).i = 500;
    const report = verify(events);
    expect(report).toMatchObject({ ok: false, kind: 'modified', firstBadPosition: 60n, eventsVerified: 5, checkpointsVerified: 1 });
    expect(report.problem).toMatch(/^event at position 60 \(tenant-c@1\) was modified: stored hash [0-9a-f]{64} recomputed [0-9a-f]{64}$/);
  });

  it('deleted event inside a stream: the next event of that stream shows the gap', () => {
    const events = LOG.filter((_, i) => i !== 4); // tenant-b@1 at position 50
    expect(verify(events)).toMatchObject({
      ok: false,
      kind: 'deleted',
      firstBadPosition: 80n,
      problem: 'event at position 80 (tenant-b@2) follows a gap: revision 1 is missing (deleted)',
    });
  });

  it('deleted last event of a stream: no chain shows it, the covering checkpoint does', () => {
    const events = LOG.filter((_, i) => i !== 11); // tenant-c@3, the last event of the log
    const report = verify(events);
    expect(report).toMatchObject({ ok: false, kind: 'checkpoint-beyond-log', checkpoint: { index: 2, treeSize: 12 } });
    expect(report.problem).toContain('covers 12 events but the log holds only 11');
  });

  it('deleted event that a checkpoint covers before the next event of its stream shows the gap: the checkpoint reports first', () => {
    const events = LOG.filter((_, i) => i !== 6); // tenant-a@2 at position 70; tenant-a@3 follows only at position 100
    expect(verify(events, [])).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 100n });
    expect(verify(events)).toMatchObject({ ok: false, kind: 'checkpoint-root', firstBadPosition: 50n, checkpoint: { index: 1, treeSize: 8 } });
  });

  it('inserted event with the stream re-chained around it by someone who can write metadata: the checkpoint catches it', () => {
    const forged = { ...LOG[6], id: 'forged', data: { i: 'forged' }, position: 65n };
    const events = rechain(
      [...LOG.slice(0, 6), forged, ...LOG.slice(6).map((e) => (e.streamName === 'tenant-a' ? { ...e, revision: e.revision + 1 } : e))],
      'tenant-a',
    );
    const report = verify(events);
    expect(report).toMatchObject({ ok: false, kind: 'checkpoint-root', firstBadPosition: 50n, checkpoint: { index: 1, treeSize: 8 } });
    expect(report.problem).toMatch(/checkpoint #1 \(treeSize 8, .*\) does not match the log: signed root [0-9a-f]{64}, recomputed [0-9a-f]{64}; the events from position 50 to 70/);
  });

  it('inserted event without re-chaining: the chain breaks at the insertion', () => {
    const [copy] = copyLog([LOG[6]]); // tenant-a@2, duplicated at a new position as tenant-a@3 with its old chain fields
    const events = [...LOG.slice(0, 7), { ...copy, id: 'dup', position: 75n, revision: 3 }, ...LOG.slice(7)];
    expect(verify(events)).toMatchObject({ ok: false, kind: 'inserted', firstBadPosition: 75n });
  });

  it('two events of one stream swapped (positions kept increasing): the chain shows the order', () => {
    const events = copyLog(LOG);
    [events[1], events[4]] = [{ ...events[4], position: 20n }, { ...events[1], position: 50n }]; // tenant-b@0 and @1
    expect(verify(events)).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 20n, problem: 'event at position 20 (tenant-b@1) follows a gap: revision 0 is missing (deleted)' });
  });

  it('two events of different streams swapped with their positions: every chain holds, the Merkle root does not', () => {
    const events = copyLog(LOG);
    [events[9], events[10]] = [{ ...events[10], position: 100n }, { ...events[9], position: 110n }];
    expect(verify(events)).toMatchObject({ ok: false, kind: 'checkpoint-root', firstBadPosition: 90n, checkpoint: { index: 2, treeSize: 12 } });
  });

  it('events listed out of global order', () => {
    const events = [...LOG];
    [events[2], events[3]] = [events[3], events[2]];
    expect(verify(events)).toMatchObject({ ok: false, kind: 'position-not-increasing', firstBadPosition: 30n, problem: 'event at position 30 (tenant-c@0) is out of global order: it follows position 40' });
  });

  it('checkpoint root changed: the signature no longer verifies', () => {
    const checkpoints = [...CHECKPOINTS];
    checkpoints[1] = { ...checkpoints[1], rootHash: 'ff'.repeat(32) };
    const report = verify(LOG, checkpoints);
    expect(report).toMatchObject({ ok: false, kind: 'checkpoint-signature', checkpoint: { index: 1, treeSize: 8 }, checkpointsVerified: 1 });
    expect(report.firstBadPosition).toBeUndefined();
  });

  it('checkpoint with a wrong root that is validly signed (a faulty sealer or a stolen key): root mismatch', () => {
    const checkpoints = [...CHECKPOINTS];
    checkpoints[1] = signCheckpoint({ ...checkpoints[1], rootHash: 'ff'.repeat(32) }, signer);
    expect(verify(LOG, checkpoints)).toMatchObject({ ok: false, kind: 'checkpoint-root', firstBadPosition: 50n, checkpoint: { index: 1 } });
  });

  it('forged signature: signed by a key the verifier does not trust, or bytes replaced', () => {
    const mallory = generateEd25519Signer();
    const byMallory = [...CHECKPOINTS.slice(0, 2), signCheckpoint(CHECKPOINTS[2], mallory)];
    expect(verify(LOG, byMallory)).toMatchObject({ ok: false, kind: 'checkpoint-signature', checkpoint: { index: 2, treeSize: 12 } });
    const claimed = [...CHECKPOINTS.slice(0, 2), { ...signCheckpoint(CHECKPOINTS[2], mallory), keyId: signer.keyId }];
    expect(verify(LOG, claimed)).toMatchObject({ ok: false, kind: 'checkpoint-signature', checkpoint: { index: 2 } });
  });

  it('malformed checkpoints are refused before any event is read', () => {
    const report = verify(LOG, [...CHECKPOINTS, { ...CHECKPOINTS[0], treeSize: -1 }]);
    expect(report).toMatchObject({ ok: false, kind: 'checkpoint-malformed', checkpoint: { index: 3 }, eventsVerified: 0 });
  });

  it('events without chain fields', () => {
    const events = copyLog(LOG);
    delete events[0].metadata.audit;
    expect(verify(events)).toMatchObject({ ok: false, kind: 'missing-chain-fields', firstBadPosition: 10n });
  });

  it('works incrementally, one page of events at a time, and stops at the first problem', () => {
    const verifier = new LogVerifier(CHECKPOINTS, { verifySignature });
    for (const event of LOG.slice(0, 6)) expect(verifier.push(event)).toBe(true);
    expect(verifier.push(LOG[9])).toBe(false); // tenant-a@3 without tenant-a@2
    expect(verifier.push(LOG[10])).toBe(false);
    expect(verifier.finish()).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 100n, eventsVerified: 6 });
  });
});
