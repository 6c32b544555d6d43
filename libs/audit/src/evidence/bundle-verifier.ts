import { createHash, KeyObject } from 'node:crypto';
import { auditLeaf } from '../audit-leaf';
import { checkpointPayload, checkpointShapeProblem } from '../checkpoint';
import { ed25519KeyId, ed25519PublicKeyFromRaw, ed25519Verify } from '../ed25519';
import { auditFieldsOf, ChainHead, checkLink, eventHash, GENESIS_HASH, isChainProblem } from '../hash-chain';
import { leafHash, verifyConsistency, verifyInclusion } from '../merkle';
import {
  BundledCheckpoint,
  BundledEvent,
  BundleFiles,
  CheckpointsFile,
  EVIDENCE_FORMAT,
  EvidenceManifest,
  HASHED_FILES,
  InclusionEntry,
  manifestPayload,
  ProofsFile,
} from './evidence-bundle';

/**
 * Offline verification of an evidence bundle (evidence-bundle.ts): nothing but the files and a trusted key.
 *
 * Problems are named after what was done to the bundle: an event `modified` (its hash does not recompute),
 * `deleted` (a revision gap in a contiguous stream, a proof or declared revision without its event), `inserted`
 * (an event the signed log does not contain: no proof, a repeated revision, or more events than declared),
 * `reordered` (global order broken), and signature, proof and file-hash failures. They are listed checkpoints first
 * (everything else is proven against them), then events by position, then streams, files and the manifest, so the
 * first problem is the first bad item.
 */
export type BundleProblemKind =
  | 'malformed'
  | 'checkpoint-malformed'
  | 'checkpoint-signature'
  | 'consistency'
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'missing-chain-fields'
  | 'proof-invalid'
  | 'file-missing'
  | 'file-hash'
  | 'file-unlisted'
  | 'manifest-signature';

export interface BundleProblem {
  kind: BundleProblemKind;
  /** What is bad: `event at position 12 (tenant-…@3)`, `checkpoint 40`, `file events.ndjson`, `manifest`. */
  item: string;
  position?: string;
  problem: string;
}

export interface BundleVerifyOptions {
  /** The keys the operator trusts; when none are given, the manifest's own keys are trusted (and the report says so). */
  publicKeys?: readonly KeyObject[];
  /** Called every few hundred events and at the end. */
  onProgress?: (done: number, total: number) => void;
}

export interface BundleReport {
  ok: boolean;
  tenantId?: string;
  window?: { from: string; to: string };
  trustedKeys: { keyId: string; source: 'operator' | 'manifest' }[];
  counts: { events: number; eventsVerified: number; proofsVerified: number; checkpoints: number; checkpointsVerified: number; consistencyVerified: number; files: number };
  first?: BundleProblem;
  problems: BundleProblem[];
}

export type BundleInput = ReadonlyMap<string, Buffer> | Record<string, Buffer | string>;

const PROGRESS_EVERY = 250;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const HEX64 = /^[0-9a-f]{64}$/;

export function verifyBundle(input: BundleInput, options: BundleVerifyOptions = {}): BundleReport {
  const files = toMap(input);
  const run = new BundleRun(files, options);
  return run.verify();
}

function toMap(input: BundleInput): Map<string, Buffer> {
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input as Record<string, Buffer | string>);
  return new Map(entries.map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')]));
}

class BundleRun {
  private readonly parse: BundleProblem[] = [];
  private readonly checkpointProblems: BundleProblem[] = [];
  private readonly eventProblems: BundleProblem[] = [];
  private readonly streamProblems: BundleProblem[] = [];
  private readonly fileProblems: BundleProblem[] = [];
  private readonly manifestProblems: BundleProblem[] = [];
  private readonly trusted = new Map<string, KeyObject>();
  private readonly trustedKeys: BundleReport['trustedKeys'] = [];
  private readonly counts = { events: 0, eventsVerified: 0, proofsVerified: 0, checkpoints: 0, checkpointsVerified: 0, consistencyVerified: 0, files: 0 };
  private readonly signedCheckpoints = new Map<number, BundledCheckpoint>();
  /** Tree sizes of the checkpoints whose signature verified under a trusted key. */
  private readonly trustedCheckpoints = new Set<number>();

  constructor(
    private readonly files: Map<string, Buffer>,
    private readonly options: BundleVerifyOptions,
  ) {
    this.counts.files = files.size;
  }

  verify(): BundleReport {
    const manifest = this.manifest();
    if (!manifest) return this.report(undefined);
    this.trust(manifest);
    this.checkCheckpoints(manifest);
    this.checkEvents(manifest);
    this.checkFiles(manifest);
    this.checkManifestSignature(manifest);
    return this.report(manifest);
  }

  private report(manifest: EvidenceManifest | undefined): BundleReport {
    const byPosition = (a: BundleProblem, b: BundleProblem) => (a.position === undefined || b.position === undefined ? 0 : BigInt(a.position) < BigInt(b.position) ? -1 : BigInt(a.position) > BigInt(b.position) ? 1 : 0);
    const events = [...this.eventProblems].sort(byPosition);
    const problems = [...this.parse, ...this.checkpointProblems, ...events, ...this.streamProblems, ...this.fileProblems, ...this.manifestProblems];
    return {
      ok: problems.length === 0,
      tenantId: manifest?.tenantId,
      window: manifest?.window,
      trustedKeys: this.trustedKeys,
      counts: this.counts,
      first: problems[0],
      problems,
    };
  }

  private json<T>(name: string): T | undefined {
    const bytes = this.files.get(name);
    if (!bytes) {
      this.parse.push({ kind: 'file-missing', item: `file ${name}`, problem: `${name} is missing from the bundle` });
      return undefined;
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch {
      this.parse.push({ kind: 'malformed', item: `file ${name}`, problem: `${name} is not valid JSON` });
      return undefined;
    }
  }

  private manifest(): EvidenceManifest | undefined {
    const m = this.json<EvidenceManifest>(BundleFiles.manifest);
    if (!m) return undefined;
    if (typeof m !== 'object' || m.format !== EVIDENCE_FORMAT) {
      this.parse.push({ kind: 'malformed', item: 'manifest', problem: `manifest.json is not a ${EVIDENCE_FORMAT} manifest` });
      return undefined;
    }
    if (!Array.isArray(m.keys) || typeof m.files !== 'object' || m.files === null || typeof m.streams !== 'object' || m.streams === null || !m.signature) {
      this.parse.push({ kind: 'malformed', item: 'manifest', problem: 'manifest.json lacks keys, files, streams or its signature' });
      return undefined;
    }
    return m;
  }

  private trust(manifest: EvidenceManifest): void {
    if (this.options.publicKeys?.length) {
      for (const key of this.options.publicKeys) {
        const keyId = ed25519KeyId(key);
        this.trusted.set(keyId, key);
        this.trustedKeys.push({ keyId, source: 'operator' });
      }
      return;
    }
    for (const k of manifest.keys) {
      try {
        const key = ed25519PublicKeyFromRaw(Buffer.from(String(k.publicKey), 'base64url'));
        // The key id is derived from the key: a manifest naming another id for it is not taken at its word.
        const keyId = ed25519KeyId(key);
        this.trusted.set(keyId, key);
        this.trustedKeys.push({ keyId, source: 'manifest' });
      } catch {
        this.parse.push({ kind: 'malformed', item: 'manifest', problem: `manifest key ${String(k?.keyId)} is not an Ed25519 public key` });
      }
    }
  }

  private describeTrust(): string {
    const ids = this.trustedKeys.map((k) => k.keyId).join(', ') || 'none';
    return this.trustedKeys[0]?.source === 'operator' ? `the operator's key ${ids}` : `the manifest's key ${ids}`;
  }

  private checkCheckpoints(manifest: EvidenceManifest): void {
    const file = this.json<CheckpointsFile>(BundleFiles.checkpoints);
    if (!file) return;
    const list = Array.isArray(file.checkpoints) ? file.checkpoints : [];
    this.counts.checkpoints = list.length;
    let previous: BundledCheckpoint | undefined;
    const verified = new Set<number>();
    for (const c of list) {
      const item = `checkpoint ${String(c?.treeSize)}`;
      const shape = checkpointShapeProblem(c);
      if (shape) {
        this.checkpointProblems.push({ kind: 'checkpoint-malformed', item, problem: `${item} is malformed: ${shape}` });
        continue;
      }
      if (previous && c.treeSize <= previous.treeSize) {
        this.checkpointProblems.push({ kind: 'checkpoint-malformed', item, problem: `${item} follows checkpoint ${previous.treeSize}: checkpoints must be in ascending tree size` });
      }
      previous = c;
      const key = this.trusted.get(c.keyId);
      if (!key) {
        this.checkpointProblems.push({ kind: 'checkpoint-signature', item, problem: `${item} is signed by ${c.keyId}, which is not trusted (trusted: ${this.describeTrust()})` });
      } else if (!ed25519Verify(key, checkpointPayload(c), c.signature)) {
        this.checkpointProblems.push({ kind: 'checkpoint-signature', item, problem: `${item} (signed ${c.time}) has a signature that does not verify under ${this.describeTrust()}: forged or altered` });
      } else {
        verified.add(c.treeSize);
        this.trustedCheckpoints.add(c.treeSize);
        this.counts.checkpointsVerified++;
      }
      this.signedCheckpoints.set(c.treeSize, c);
    }
    const anchor = list[list.length - 1];
    if (!anchor || anchor.treeSize !== manifest.anchorTreeSize) {
      this.checkpointProblems.push({ kind: 'checkpoint-malformed', item: `checkpoint ${manifest.anchorTreeSize}`, problem: `the manifest's anchor checkpoint ${manifest.anchorTreeSize} is not the last one in checkpoints.json` });
    }
    const proofs = new Map((Array.isArray(file.consistency) ? file.consistency : []).map((p) => [`${p.from}:${p.to}`, p]));
    for (let i = 1; i < list.length; i++) {
      const [older, newer] = [list[i - 1], list[i]];
      if (!verified.has(older.treeSize) || !verified.has(newer.treeSize)) continue;
      const item = `consistency ${older.treeSize} -> ${newer.treeSize}`;
      const p = proofs.get(`${older.treeSize}:${newer.treeSize}`);
      const path = p && Array.isArray(p.proof) && p.proof.every((h) => typeof h === 'string' && HEX64.test(h)) ? p.proof.map((h) => Buffer.from(h, 'hex')) : undefined;
      if (!path) {
        this.checkpointProblems.push({ kind: 'consistency', item, problem: `no well-formed consistency proof from checkpoint ${older.treeSize} to ${newer.treeSize}` });
      } else if (!verifyConsistency(older.treeSize, newer.treeSize, Buffer.from(older.rootHash, 'hex'), Buffer.from(newer.rootHash, 'hex'), path)) {
        this.checkpointProblems.push({ kind: 'consistency', item, problem: `checkpoint ${newer.treeSize} does not extend checkpoint ${older.treeSize}: the log was rewritten between them` });
      } else {
        this.counts.consistencyVerified++;
      }
    }
  }

  private readEvents(): BundledEvent[] {
    const bytes = this.files.get(BundleFiles.events);
    if (!bytes) {
      this.parse.push({ kind: 'file-missing', item: `file ${BundleFiles.events}`, problem: `${BundleFiles.events} is missing from the bundle` });
      return [];
    }
    const events: BundledEvent[] = [];
    bytes
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        let e: BundledEvent | undefined;
        try {
          e = JSON.parse(line) as BundledEvent;
        } catch {
          /* reported below */
        }
        const shapeOk =
          e && typeof e === 'object' && typeof e.position === 'string' && /^\d{1,19}$/.test(e.position) && typeof e.stream === 'string' && Number.isSafeInteger(e.revision) && e.revision >= 0 && typeof e.type === 'string' && typeof e.metadata === 'object' && e.metadata !== null;
        if (!shapeOk) this.parse.push({ kind: 'malformed', item: `${BundleFiles.events} line ${i + 1}`, problem: `line ${i + 1} of ${BundleFiles.events} is not a bundled event (position, stream, revision, type, data, metadata)` });
        else events.push(e!);
      });
    return events;
  }

  private checkEvents(manifest: EvidenceManifest): void {
    const events = this.readEvents();
    const proofsFile = this.json<ProofsFile>(BundleFiles.proofs);
    const proofs = new Map<string, InclusionEntry>();
    for (const p of Array.isArray(proofsFile?.proofs) ? proofsFile!.proofs : []) proofs.set(String(p.position), p);
    this.counts.events = events.length;

    const heads = new Map<string, ChainHead>();
    const seen = new Map<string, { first: number; last: number; count: number }>();
    const positions = new Set<string>();
    let last: bigint | undefined;
    events.forEach((e, i) => {
      const where = `event at position ${e.position} (${e.stream}@${e.revision})`;
      const before = this.eventProblems.length;
      const fail = (kind: BundleProblemKind, problem: string) => this.eventProblems.push({ kind, item: where, position: e.position, problem: `${where} ${problem}` });
      const position = BigInt(e.position);
      positions.add(e.position);
      if (last !== undefined && position <= last) fail('reordered', `is out of global order: it comes after position ${last}`);
      if (last === undefined || position > last) last = position;
      const stats = seen.get(e.stream);
      if (stats) {
        stats.first = Math.min(stats.first, e.revision);
        stats.last = Math.max(stats.last, e.revision);
        stats.count++;
      } else seen.set(e.stream, { first: e.revision, last: e.revision, count: 1 });

      const input = { streamName: e.stream, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as never };
      const fields = auditFieldsOf(input);
      if (!fields) fail('missing-chain-fields', 'carries no valid metadata.audit chain fields');
      else {
        const recomputed = eventHash(fields.prevHash, input);
        if (recomputed !== fields.hash) fail('modified', `was modified: stored hash ${fields.hash}, recomputed ${recomputed}`);
        else this.checkLinkTo(heads, e, fields, fail, manifest);
      }
      this.checkInclusion(e, proofs.get(e.position), fail);
      if (this.eventProblems.length === before) this.counts.eventsVerified++;
      if (this.options.onProgress && (i + 1) % PROGRESS_EVERY === 0) this.options.onProgress(i + 1, events.length);
    });
    this.options.onProgress?.(events.length, events.length);

    for (const [position, p] of proofs) {
      if (!positions.has(position)) {
        this.eventProblems.push({ kind: 'deleted', item: `event at position ${position}`, position: /^\d{1,19}$/.test(position) ? position : undefined, problem: `proofs.json proves an event at position ${position} (leaf ${p.leafIndex}) that events.ndjson does not hold: it was removed` });
      }
    }
    for (const [stream, declared] of Object.entries(manifest.streams)) {
      const got = seen.get(stream);
      const item = `stream ${stream}`;
      if (!got) this.streamProblems.push({ kind: 'deleted', item, problem: `the manifest declares ${declared.count} events of ${stream}, events.ndjson holds none` });
      else if (got.count !== declared.count || got.first !== declared.firstRevision || got.last !== declared.lastRevision) {
        this.streamProblems.push({
          kind: got.count > declared.count ? 'inserted' : 'deleted',
          item,
          problem: `${stream} should hold ${declared.count} events, revisions ${declared.firstRevision}..${declared.lastRevision}; events.ndjson holds ${got.count}, revisions ${got.first}..${got.last}`,
        });
      }
    }
    for (const stream of seen.keys()) {
      if (!Object.hasOwn(manifest.streams, stream)) this.streamProblems.push({ kind: 'inserted', item: `stream ${stream}`, problem: `events.ndjson holds events of ${stream}, which the manifest does not list` });
    }
  }

  /** The event's own hash checked out; now its place in its stream's chain. */
  private checkLinkTo(heads: Map<string, ChainHead>, e: BundledEvent, fields: { prevHash: string; hash: string }, fail: (k: BundleProblemKind, p: string) => void, manifest: EvidenceManifest): void {
    const head = heads.get(e.stream);
    const input = { streamName: e.stream, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata as never };
    const contiguous = manifest.streams[e.stream]?.selection !== 'selected';
    if (!head) {
      if (e.revision === 0 && fields.prevHash !== GENESIS_HASH) fail('deleted', `is revision 0 but links to ${fields.prevHash}, not to genesis`);
      else heads.set(e.stream, { streamName: e.stream, revision: e.revision, hash: fields.hash, prevHash: fields.prevHash });
      return;
    }
    if (e.revision === head.revision) return fail('inserted', `is a second event with revision ${e.revision}`);
    if (e.revision < head.revision) return fail('reordered', `is out of order: revision ${e.revision} comes after revision ${head.revision}`);
    if (e.revision > head.revision + 1) {
      if (contiguous) {
        const missing = e.revision - 1 === head.revision + 1 ? `revision ${head.revision + 1} is` : `revisions ${head.revision + 1}..${e.revision - 1} are`;
        fail('deleted', `follows a gap: ${missing} missing from a stream the bundle holds in full`);
      }
      heads.set(e.stream, { streamName: e.stream, revision: e.revision, hash: fields.hash, prevHash: fields.prevHash });
      return;
    }
    const result = checkLink(head, input);
    if (isChainProblem(result)) return fail(result.kind === 'wrong-stream' ? 'inserted' : result.kind, result.detail);
    heads.set(e.stream, result);
  }

  private checkInclusion(e: BundledEvent, proof: InclusionEntry | undefined, fail: (k: BundleProblemKind, p: string) => void): void {
    if (!proof) return fail('inserted', 'has no inclusion proof: nothing shows it is part of the signed log');
    const checkpoint = this.signedCheckpoints.get(proof.treeSize);
    if (!checkpoint) return fail('proof-invalid', `is proven against checkpoint ${proof.treeSize}, which checkpoints.json does not hold`);
    if (!this.trustedCheckpoints.has(checkpoint.treeSize)) return fail('proof-invalid', `is proven only against checkpoint ${checkpoint.treeSize}, whose signature does not verify`);
    const path = Array.isArray(proof.path) && proof.path.every((h) => typeof h === 'string' && HEX64.test(h)) ? proof.path.map((h) => Buffer.from(h, 'hex')) : undefined;
    let leaf: Buffer;
    try {
      leaf = leafHash(auditLeaf({ streamName: e.stream, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata }));
    } catch {
      return fail('malformed', 'cannot be canonicalised (not I-JSON)');
    }
    if (!path || !verifyInclusion(leaf, proof.leafIndex, checkpoint.treeSize, path, Buffer.from(checkpoint.rootHash, 'hex'))) {
      return fail('proof-invalid', `is not in checkpoint ${checkpoint.treeSize}: its inclusion proof (leaf ${String(proof.leafIndex)}) does not lead to the signed root`);
    }
    this.counts.proofsVerified++;
  }

  private checkFiles(manifest: EvidenceManifest): void {
    for (const name of HASHED_FILES) {
      if (!Object.hasOwn(manifest.files, name)) this.fileProblems.push({ kind: 'file-missing', item: `file ${name}`, problem: `the manifest lists no hash for ${name}` });
    }
    for (const [name, expected] of Object.entries(manifest.files)) {
      const bytes = this.files.get(name);
      if (!bytes) {
        if (!this.parse.some((p) => p.item === `file ${name}`)) this.fileProblems.push({ kind: 'file-missing', item: `file ${name}`, problem: `${name} is listed in the manifest but missing` });
        continue;
      }
      const actual = sha256(bytes);
      if (actual !== expected?.sha256) this.fileProblems.push({ kind: 'file-hash', item: `file ${name}`, problem: `${name} has SHA-256 ${actual}, the manifest says ${String(expected?.sha256)}: it was changed` });
    }
    for (const name of this.files.keys()) {
      if (name !== BundleFiles.manifest && !Object.hasOwn(manifest.files, name)) {
        this.fileProblems.push({ kind: 'file-unlisted', item: `file ${name}`, problem: `${name} is not covered by the manifest` });
      }
    }
  }

  private checkManifestSignature(manifest: EvidenceManifest): void {
    const { keyId, value } = manifest.signature ?? ({} as EvidenceManifest['signature']);
    const key = this.trusted.get(keyId);
    if (!key) {
      this.manifestProblems.push({ kind: 'manifest-signature', item: 'manifest', problem: `the manifest is signed by ${String(keyId)}, which is not trusted (trusted: ${this.describeTrust()})` });
    } else if (typeof value !== 'string' || !ed25519Verify(key, manifestPayload(manifest), value)) {
      this.manifestProblems.push({ kind: 'manifest-signature', item: 'manifest', problem: `the manifest's signature does not verify under ${this.describeTrust()}: the manifest was altered` });
    }
  }
}
