import { AUDIT_METADATA_KEY, contentDigestHex } from '@cmk/audit/hash-chain';
import type { EventMetadata, NewEvent } from './event-store.port';

/**
 * What the adapters share of the hash chain (its definition is libs/audit/src/hash-chain.ts): the content digest of
 * an event about to be appended, computed before the append because it needs only the event itself. The link to
 * the previous event is made where that event is known for certain: inside the serialised append function on
 * PostgreSQL, against the revision the append is conditional on for EventStoreDB. After an event without valid
 * chain fields (written before chains existed, or around the store) a stream's chain restarts from the genesis
 * hash, in both adapters: refusing would block every later append to that stream, revocations included, and a
 * verifier reports the unchained event anyway.
 */

/** An event as the store keeps it: its JSON form, which is what the chain covers and a verifier reads back. */
export interface StoredContent {
  type: string;
  data: unknown;
  metadata: EventMetadata;
}

/**
 * The JSON form of an event's data and metadata, as every store serialises them (class instances become plain
 * objects, Dates strings, undefined members vanish). Hashing this, not the caller's objects, is what lets a
 * verifier recompute the digest from the stored event alone.
 */
export function storedContentOf(event: NewEvent, index: number): StoredContent {
  const stored = JSON.parse(JSON.stringify({ data: event.data ?? null, metadata: event.metadata ?? {} })) as { data: unknown; metadata: unknown };
  const metadata = stored.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new TypeError(`event ${index}: metadata must be a JSON object`);
  if ((metadata as Record<string, unknown>)[AUDIT_METADATA_KEY] !== undefined) {
    throw new TypeError(`event ${index}: metadata.${AUDIT_METADATA_KEY} is reserved for the hash chain the event store writes`);
  }
  return { type: event.type, data: stored.data, metadata: metadata as EventMetadata };
}

/** Lower-case hex SHA-256 of the stored content's canonical form (RFC 8785); refuses what has none (lone surrogates). */
export function appendDigest(streamName: string, content: StoredContent): string {
  return contentDigestHex({ streamName, ...content });
}
