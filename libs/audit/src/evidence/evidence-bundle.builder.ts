import { createHash } from 'node:crypto';
import type { Hash } from '../merkle';
import {
  AuditKeyDocument,
  BundledCheckpoint,
  BundleFiles,
  CheckpointsFile,
  EVIDENCE_FORMAT,
  EvidenceManifest,
  InclusionEntry,
  manifestPayload,
  ProofsFile,
  toBundledEvent,
} from './evidence-bundle';
import { evidenceFacts } from './evidence-facts';
import { MerkleProofs } from './evidence-proofs';
import { evidenceReadme } from './evidence-readme';
import { renderEvidenceReport } from './evidence-report.html';
import type { EvidenceSelection } from './evidence-selection';

/** The bundle cannot be built as asked; `code` says why (no key material or event content in the message). */
export class EvidenceBuildError extends Error {
  constructor(
    readonly code: 'not-sealed' | 'no-checkpoint' | 'leaf-mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'EvidenceBuildError';
  }
}

export interface EvidenceBuildInput {
  tenantId: string;
  window: { from: Date; to: Date };
  asOf: readonly Date[];
  generatedAt: Date;
  generatedBy: string;
  selection: EvidenceSelection;
  /** Leaf index of each bundled event, by position (decimal). */
  leafIndex: ReadonlyMap<string, number>;
  /** RFC 9162 leaf hashes of the log's first `anchor.treeSize` leaves. */
  leafHashes: readonly Hash[];
  /** Signed checkpoints to bundle, ascending tree size; the last is the anchor every event is proven against. */
  checkpoints: readonly BundledCheckpoint[];
  keys: AuditKeyDocument[];
  /** The deployment's regions (CMK_REGIONS), or none. */
  regions?: readonly string[];
  /** Signs the manifest with the audit key (the checkpoints' signer). */
  signer: { keyId: string; sign(payload: Uint8Array): Promise<string> };
}

export interface EvidenceBundle {
  manifest: EvidenceManifest;
  /** File name -> exact content (UTF-8); write them as they are, the manifest hashes these bytes. */
  files: Record<string, string>;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hex = (hashes: readonly Hash[]) => hashes.map((h) => h.toString('hex'));

export async function buildEvidenceBundle(input: EvidenceBuildInput): Promise<EvidenceBundle> {
  const anchor = input.checkpoints[input.checkpoints.length - 1];
  if (!anchor) throw new EvidenceBuildError('no-checkpoint', 'no audit checkpoint has been signed yet');
  if (input.leafHashes.length < anchor.treeSize) throw new EvidenceBuildError('leaf-mismatch', `only ${input.leafHashes.length} of the anchor's ${anchor.treeSize} leaves were given`);
  const tree = new MerkleProofs(input.leafHashes.slice(0, anchor.treeSize));
  if (tree.root().toString('hex') !== anchor.rootHash) {
    // The leaves read back do not give the signed root: exporting proofs against it would only produce a bundle that fails.
    throw new EvidenceBuildError('leaf-mismatch', `the audit leaves do not match checkpoint ${anchor.treeSize}`);
  }

  const events = input.selection.events.map(toBundledEvent);
  const proofs: InclusionEntry[] = events.map((e) => {
    const leafIndex = input.leafIndex.get(e.position);
    if (leafIndex === undefined || leafIndex >= anchor.treeSize) {
      throw new EvidenceBuildError('not-sealed', `the event at position ${e.position} is not covered by the latest checkpoint (tree size ${anchor.treeSize}) yet`);
    }
    return { position: e.position, leafIndex, treeSize: anchor.treeSize, path: hex(tree.inclusion(leafIndex)) };
  });
  const checkpoints: CheckpointsFile = {
    checkpoints: [...input.checkpoints],
    consistency: input.checkpoints.slice(1).map((c, i) => ({ from: input.checkpoints[i].treeSize, to: c.treeSize, proof: hex(tree.consistency(input.checkpoints[i].treeSize, c.treeSize)) })),
  };

  const window = { from: input.window.from.toISOString(), to: input.window.to.toISOString() };
  const asOf = [...new Set(input.asOf.map((d) => d.toISOString()))];
  const regions = [...new Set(input.regions ?? [])].sort();
  const facts = evidenceFacts(events, input.tenantId, window, asOf, regions);
  const header = {
    tenantId: input.tenantId,
    window,
    generatedAt: input.generatedAt.toISOString(),
    generatedBy: input.generatedBy,
    keys: input.keys,
    anchorTreeSize: anchor.treeSize,
    events: events.length,
  };
  const files: Record<string, string> = {
    [BundleFiles.events]: events.map((e) => JSON.stringify(e) + '\n').join(''),
    [BundleFiles.proofs]: JSON.stringify({ proofs } satisfies ProofsFile, null, 1) + '\n',
    [BundleFiles.checkpoints]: JSON.stringify(checkpoints, null, 1) + '\n',
    [BundleFiles.report]: renderEvidenceReport(header, facts),
    [BundleFiles.readme]: evidenceReadme(input.tenantId, window),
  };
  const unsigned: Omit<EvidenceManifest, 'signature'> = {
    format: EVIDENCE_FORMAT,
    tenantId: input.tenantId,
    window,
    asOf,
    generatedAt: header.generatedAt,
    generatedBy: input.generatedBy,
    keys: input.keys,
    anchorTreeSize: anchor.treeSize,
    regions,
    counts: { events: events.length, streams: Object.keys(input.selection.streams).length, checkpoints: input.checkpoints.length },
    streams: input.selection.streams,
    files: Object.fromEntries(Object.entries(files).map(([name, text]) => [name, { sha256: sha256(text), bytes: Buffer.byteLength(text, 'utf8') }])),
  };
  const manifest: EvidenceManifest = { ...unsigned, signature: { keyId: input.signer.keyId, alg: 'Ed25519', value: await input.signer.sign(manifestPayload(unsigned)) } };
  files[BundleFiles.manifest] = JSON.stringify(manifest, null, 2) + '\n';
  return { manifest, files };
}
