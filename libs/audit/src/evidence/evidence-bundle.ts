import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { canonicalBytes } from '../canonical-json';
import type { SignedCheckpoint } from '../checkpoint';

/**
 * The evidence bundle: a directory an auditor verifies with no access to the service (see evidence-readme.ts for
 * the reader's description, which is written into every bundle).
 */
export const EVIDENCE_FORMAT = 'openkcm-cmk/evidence-bundle/v1';

/**
 * Domain separation for the manifest signature: the audit key also signs checkpoints, whose payload starts with
 * another context, so neither signature can be replayed as the other.
 */
export const EVIDENCE_CONTEXT = 'openkcm-cmk/evidence-manifest/v1';

export const BundleFiles = {
  manifest: 'manifest.json',
  events: 'events.ndjson',
  proofs: 'proofs.json',
  checkpoints: 'checkpoints.json',
  report: 'report.html',
  readme: 'README.md',
} as const;

/** Every file the manifest must list (all but itself). */
export const HASHED_FILES: readonly string[] = [BundleFiles.events, BundleFiles.proofs, BundleFiles.checkpoints, BundleFiles.report, BundleFiles.readme];

/** One line of events.ndjson. `recordedAt` and `id` are informative: the chain hash covers type, data, metadata and stream. */
export interface BundledEvent {
  position: string;
  stream: string;
  revision: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: string;
  id: string;
}

/**
 * How a stream's events were chosen: `contiguous` = every event of the stream from `firstRevision` to
 * `lastRevision` (a gap is a deletion); `selected` = only the events concerning the tenant (a shared stream such as
 * `denied-<day>`), so gaps are expected and the inclusion proofs and the signed manifest vouch for completeness.
 */
export type StreamSelection = 'contiguous' | 'selected';

export interface BundledStream {
  selection: StreamSelection;
  firstRevision: number;
  lastRevision: number;
  count: number;
}

/** As GET /.well-known/cmk-audit-keys serves it. */
export interface AuditKeyDocument {
  keyId: string;
  alg: 'Ed25519';
  /** base64url of the raw 32-byte key. */
  publicKey: string;
  spkiPem: string;
}

export interface EvidenceManifest {
  format: typeof EVIDENCE_FORMAT;
  tenantId: string;
  window: { from: string; to: string };
  /** Extra dates the report shows the tenant's state at (the window end always). */
  asOf: string[];
  generatedAt: string;
  /** Subject of the caller who exported the bundle. */
  generatedBy: string;
  keys: AuditKeyDocument[];
  /** Tree size of the checkpoint every inclusion proof is against. */
  anchorTreeSize: number;
  /** The regions the deployment serves (CMK_REGIONS), for "who could decrypt"; empty when not configured. */
  regions: string[];
  counts: { events: number; streams: number; checkpoints: number };
  streams: Record<string, BundledStream>;
  files: Record<string, { sha256: string; bytes: number }>;
  signature: { keyId: string; alg: 'Ed25519'; value: string };
}

export interface InclusionEntry {
  position: string;
  leafIndex: number;
  /** Tree size of the checkpoint the path leads to. */
  treeSize: number;
  /** Audit path, lower-case hex, RFC 9162 section 2.1.3. */
  path: string[];
}

export interface ProofsFile {
  proofs: InclusionEntry[];
}

export interface ConsistencyEntry {
  from: number;
  to: number;
  proof: string[];
}

export type BundledCheckpoint = SignedCheckpoint & { lastPosition?: string };

export interface CheckpointsFile {
  /** Ascending tree size; the last one is the anchor. */
  checkpoints: BundledCheckpoint[];
  /** Between each consecutive pair. */
  consistency: ConsistencyEntry[];
}

export function toBundledEvent(e: RecordedEvent): BundledEvent {
  return {
    position: e.position.toString(),
    stream: e.streamName,
    revision: e.revision,
    type: e.type,
    data: e.data,
    metadata: e.metadata as Record<string, unknown>,
    recordedAt: e.recordedAt.toISOString(),
    id: e.id,
  };
}

/** What the manifest signature covers: the manifest without its signature, under the evidence context. */
export function manifestPayload(manifest: Omit<EvidenceManifest, 'signature'> | EvidenceManifest): Buffer {
  const { signature: _signature, ...unsigned } = manifest as EvidenceManifest;
  return canonicalBytes({ context: EVIDENCE_CONTEXT, manifest: unsigned });
}
