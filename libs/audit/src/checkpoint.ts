import { canonicalBytes } from './canonical-json';

/**
 * A signed statement "the first `treeSize` events of the global log have Merkle root `rootHash`" (RFC 9162-style
 * signed tree head). Leaves are the events' chain hashes (32 bytes each, from metadata.audit.hash) in global order.
 */
export interface Checkpoint {
  treeSize: number;
  /** Lower-case hex of the RFC 9162 tree head over the first treeSize leaves. */
  rootHash: string;
  /** When the sealer signed it, RFC 3339 / ISO 8601. */
  time: string;
  /** Names the public key that verifies the signature. */
  keyId: string;
}

export interface SignedCheckpoint extends Checkpoint {
  /** base64url signature over {@link checkpointPayload}. */
  signature: string;
}

/** Domain separation: a checkpoint signature can never be replayed as a signature over anything else. */
export const CHECKPOINT_CONTEXT = 'openkcm-cmk/audit-checkpoint/v1';

/**
 * The bytes a checkpoint signature covers: JCS of { context, keyId, rootHash, time, treeSize } (the key id is
 * signed too, so a signature cannot be re-attributed to another key).
 */
export function checkpointPayload(checkpoint: Checkpoint): Buffer {
  const { treeSize, rootHash, time, keyId } = checkpoint;
  return canonicalBytes({ context: CHECKPOINT_CONTEXT, keyId, rootHash, time, treeSize });
}

/** Injected signature check; the verifier core stays free of key handling. Must return false, not throw, on a bad signature. */
export type VerifySignature = (payload: Uint8Array, signature: string, keyId: string) => boolean;

/** Why a checkpoint is malformed, or undefined when its fields have the right shapes. */
export function checkpointShapeProblem(checkpoint: SignedCheckpoint): string | undefined {
  const { treeSize, rootHash, time, keyId, signature } = checkpoint ?? ({} as SignedCheckpoint);
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) return `treeSize ${String(treeSize)} is not a non-negative integer`;
  if (typeof rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(rootHash)) return `rootHash ${String(rootHash)} is not 64 lower-case hex digits`;
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return `time ${String(time)} is not a timestamp`;
  if (typeof keyId !== 'string' || keyId.length === 0) return 'keyId is missing';
  if (typeof signature !== 'string' || signature.length === 0) return 'signature is missing';
  return undefined;
}
