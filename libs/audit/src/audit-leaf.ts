import { createHash } from 'node:crypto';
import { canonicalBytes } from './canonical-json';

/** What a leaf is computed from: an exported event. */
export interface LeafSource {
  streamName: string;
  revision: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> | null | undefined;
}

const HEX = /^[0-9a-f]{64}$/;

/**
 * The Merkle leaf of one event (32 bytes): its chain hash (`metadata.audit.hash`, which already covers the
 * content and its stream predecessor), or, for an event written before chains existed, SHA-256 of the RFC 8785
 * form of { streamName, revision, type, data, metadata }. Either way a verifier recomputes it from the event
 * alone, and the sealer and every verifier use this one function.
 */
export function auditLeaf(event: LeafSource): Buffer {
  const chain = (event.metadata?.audit as { hash?: unknown } | undefined)?.hash;
  if (typeof chain === 'string' && HEX.test(chain)) return Buffer.from(chain, 'hex');
  const { streamName, revision, type, data, metadata } = event;
  return createHash('sha256').update(canonicalBytes({ streamName, revision, type, data, metadata: metadata ?? {} })).digest();
}

/** The stream category of audit checkpoints; its events are signed statements about the others, not leaves. */
export const CHECKPOINT_CATEGORY = 'auditcheckpoint';

export function isLeafEvent(streamName: string): boolean {
  return !streamName.startsWith(`${CHECKPOINT_CATEGORY}-`);
}
