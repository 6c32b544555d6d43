import { generateEd25519Signer, signCheckpoint } from '../ed25519';
import { chainFields } from '../hash-chain';
import { BundledEvent, BundleFiles, CheckpointsFile, EvidenceManifest } from './evidence-bundle';
import { verifyBundle } from './bundle-verifier';
import { fixtureBundle, keyDocument, LINK, OTHER, OTHERS_APPROVAL, TENANT } from './testing/evidence-fixture';

type Files = Record<string, string>;
const lines = (files: Files): BundledEvent[] => files[BundleFiles.events].trim().split('\n').map((l) => JSON.parse(l));
const withEvents = (files: Files, events: BundledEvent[]): Files => ({ ...files, [BundleFiles.events]: events.map((e) => JSON.stringify(e) + '\n').join('') });
const json = <T>(files: Files, name: string): T => JSON.parse(files[name]);

describe('evidence bundle verifier (offline, files only)', () => {
  let files: Files;
  let signer: ReturnType<typeof generateEd25519Signer>;

  beforeAll(async () => {
    const built = await fixtureBundle();
    files = built.bundle.files;
    signer = built.signer;
  });

  it('verifies an untouched bundle: every event, proof, checkpoint, consistency proof, file and the manifest', () => {
    const report = verifyBundle(files);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const events = lines(files);
    expect(report.counts).toMatchObject({ events: events.length, eventsVerified: events.length, proofsVerified: events.length, checkpoints: 2, checkpointsVerified: 2, consistencyVerified: 1 });
    expect(report.trustedKeys).toEqual([{ keyId: signer.keyId, source: 'manifest' }]);
  });

  it("bundles only the tenant's evidence: no event of the other tenant, the shared denied stream marked selected", () => {
    const events = lines(files);
    expect(events.some((e) => JSON.stringify(e.data).includes(OTHER))).toBe(false);
    expect(events.some((e) => e.stream === `approval-${OTHERS_APPROVAL}`)).toBe(false);
    expect(events.filter((e) => e.stream.startsWith('approval-')).length).toBe(8);
    expect(events.filter((e) => e.stream === 'denied-20250101').map((e) => e.revision)).toEqual([0, 2]);
    const manifest = json<EvidenceManifest>(files, BundleFiles.manifest);
    expect(manifest.streams['denied-20250101']).toEqual({ selection: 'selected', firstRevision: 0, lastRevision: 2, count: 2 });
    expect(manifest.streams[`keylink-${LINK}`]).toEqual({ selection: 'contiguous', firstRevision: 0, lastRevision: 2, count: 3 });
  });

  it('trusts an operator key instead of the manifest and says so; a different key fails at the first checkpoint', () => {
    expect(verifyBundle(files, { publicKeys: [signer.publicKey] })).toMatchObject({ ok: true, trustedKeys: [{ keyId: signer.keyId, source: 'operator' }] });
    const stranger = generateEd25519Signer();
    const report = verifyBundle(files, { publicKeys: [stranger.publicKey] });
    expect(report.ok).toBe(false);
    expect(report.first).toMatchObject({ kind: 'checkpoint-signature', item: 'checkpoint 12' });
    expect(report.first!.problem).toContain(`the operator's key ${stranger.keyId}`);
  });

  it('names a modified event by its position', () => {
    const events = lines(files);
    const target = events.find((e) => e.type === 'KeyLinkRevoked')!;
    (target.data as { reason: string }).reason = 'routine';
    const report = verifyBundle(withEvents(files, events));
    expect(report.first).toMatchObject({ kind: 'modified', position: target.position });
    expect(report.problems.map((p) => p.kind)).toContain('file-hash');
  });

  it('names a deleted event by its position, from the gap its stream shows and the proof left without an event', () => {
    const events = lines(files);
    const i = events.findIndex((e) => e.type === 'KeyLinkActivated');
    const removed = events[i];
    events.splice(i, 1);
    const report = verifyBundle(withEvents(files, events));
    expect(report.first).toMatchObject({ kind: 'deleted', position: removed.position });
    expect(report.problems.some((p) => p.kind === 'deleted' && p.problem.includes(`revision ${removed.revision} is missing`))).toBe(true);
  });

  it('names an inserted event, even one correctly chained onto the end of its stream', () => {
    const events = lines(files);
    const last = [...events].reverse().find((e) => e.stream === `keylink-${LINK}`)!;
    const forged = { ...last, position: String(BigInt(events[events.length - 1].position) + 1n), revision: last.revision + 1, type: 'KeyLinkRestored', data: { keyLinkId: LINK, tenantId: TENANT, reason: 'all fine', restoredStatus: 'active' }, metadata: { actor: { subject: 'mallory', roles: [] } } as Record<string, unknown> };
    forged.metadata.audit = chainFields((last.metadata as { audit: { hash: string } }).audit.hash, { streamName: forged.stream, revision: forged.revision, type: forged.type, data: forged.data, metadata: forged.metadata as never });
    const report = verifyBundle(withEvents(files, [...events, forged]));
    expect(report.first).toMatchObject({ kind: 'inserted', position: forged.position });
    expect(report.first!.problem).toContain('no inclusion proof');
  });

  it('names two reordered events', () => {
    const events = lines(files);
    const i = events.findIndex((e) => e.type === 'SystemRegistered');
    [events[i], events[i + 1]] = [events[i + 1], events[i]];
    const report = verifyBundle(withEvents(files, events));
    expect(report.first).toMatchObject({ kind: 'reordered', position: events[i + 1].position });
  });

  it('names a checkpoint whose signature was changed', () => {
    const cps = json<CheckpointsFile>(files, BundleFiles.checkpoints);
    const sig = Buffer.from(cps.checkpoints[1].signature, 'base64url');
    sig[5] ^= 1;
    cps.checkpoints[1].signature = sig.toString('base64url');
    const report = verifyBundle({ ...files, [BundleFiles.checkpoints]: JSON.stringify(cps) });
    expect(report.first).toMatchObject({ kind: 'checkpoint-signature', item: `checkpoint ${cps.checkpoints[1].treeSize}` });
  });

  it('refuses a swapped manifest key: the checkpoints were not signed by it', () => {
    const manifest = json<EvidenceManifest>(files, BundleFiles.manifest);
    const mallory = generateEd25519Signer();
    manifest.keys = [keyDocument(mallory)];
    const report = verifyBundle({ ...files, [BundleFiles.manifest]: JSON.stringify(manifest) });
    expect(report.first).toMatchObject({ kind: 'checkpoint-signature', item: 'checkpoint 12' });
    expect(report.first!.problem).toContain(`not trusted (trusted: the manifest's key ${mallory.keyId})`);
    expect(report.problems.map((p) => p.kind)).toContain('manifest-signature');
  });

  it('refuses a checkpoint re-signed by another key and a consistency proof that does not hold', () => {
    const cps = json<CheckpointsFile>(files, BundleFiles.checkpoints);
    const forged = structuredClone(cps);
    forged.consistency[0].proof[0] = 'ab'.repeat(32);
    const anchor = cps.checkpoints[cps.checkpoints.length - 1].treeSize;
    expect(verifyBundle({ ...files, [BundleFiles.checkpoints]: JSON.stringify(forged) }).first).toMatchObject({ kind: 'consistency', item: `consistency 12 -> ${anchor}` });
    const mallory = generateEd25519Signer();
    const resigned = structuredClone(cps);
    resigned.checkpoints[0] = { ...signCheckpoint(resigned.checkpoints[0], mallory), lastPosition: resigned.checkpoints[0].lastPosition };
    expect(verifyBundle({ ...files, [BundleFiles.checkpoints]: JSON.stringify(resigned) }).first!.problem).toContain(`signed by ${mallory.keyId}, which is not trusted`);
  });

  it('refuses an altered manifest, report or extra file, and a manifest re-signed by someone else', () => {
    const manifest = json<EvidenceManifest>(files, BundleFiles.manifest);
    expect(verifyBundle({ ...files, [BundleFiles.manifest]: JSON.stringify({ ...manifest, tenantId: OTHER }) }).first).toMatchObject({ kind: 'manifest-signature' });
    expect(verifyBundle({ ...files, [BundleFiles.report]: files[BundleFiles.report].replace('alice', 'nobody') }).first).toMatchObject({ kind: 'file-hash', item: `file ${BundleFiles.report}` });
    expect(verifyBundle({ ...files, 'notes.txt': 'trust me' }).first).toMatchObject({ kind: 'file-unlisted', item: 'file notes.txt' });
    const { [BundleFiles.proofs]: _gone, ...noProofs } = files;
    expect(verifyBundle(noProofs).first).toMatchObject({ kind: 'file-missing', item: `file ${BundleFiles.proofs}` });
  });

  it('reports malformed input as such, never throwing', () => {
    expect(verifyBundle({ ...files, [BundleFiles.manifest]: '{' }).first).toMatchObject({ kind: 'malformed', item: `file ${BundleFiles.manifest}` });
    expect(verifyBundle({ ...files, [BundleFiles.events]: files[BundleFiles.events] + 'not json\n' }).first).toMatchObject({ kind: 'malformed' });
    expect(verifyBundle({}).ok).toBe(false);
  });

  it('reports progress up to the number of events', () => {
    const seen: [number, number][] = [];
    verifyBundle(files, { onProgress: (done, total) => seen.push([done, total]) });
    const n = lines(files).length;
    expect(seen[seen.length - 1]).toEqual([n, n]);
  });
});
