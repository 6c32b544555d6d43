import { createHash } from 'node:crypto';

/**
 * Fixed namespace for event ids derived from command ids. Being a random UUID of our own, derived ids can never
 * collide with UUID v5 ids other systems derive from the same names.
 */
const NAMESPACE = Buffer.from('8c7d2a8e4f0b4d7e9a51c3f2e6b1d0a4', 'hex');

/**
 * The id of the `index`-th event appended for `commandId`: a UUID v5 (SHA-1, RFC 9562) of `commandId/index`.
 * Deterministic, so a re-sent command maps to the ids it was first stored under and the unique index on event
 * ids recognises it. `/` followed by a number keeps the name unambiguous whatever the command id contains.
 */
export function deriveEventId(commandId: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`event index must be a non-negative integer, got ${index}`);
  const bytes = createHash('sha1').update(NAMESPACE).update(`${commandId}/${index}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
