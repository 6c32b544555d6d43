import type { DomainEvent } from '../shared/decider';

/**
 * The sealer's signed statement that the first `treeSize` events of the global log (checkpoint events excluded)
 * have the RFC 9162 Merkle root `rootHash`. Written to the single `auditcheckpoint-log` stream with the expected
 * revision, so two sealers can never both record one.
 */
export type AuditCheckpointSigned = DomainEvent<
  'AuditCheckpointSigned',
  { treeSize: number; rootHash: string; time: string; keyId: string; signature: string; lastPosition: string }
>;

export const AUDIT_CHECKPOINT_STREAM = 'auditcheckpoint-log';
