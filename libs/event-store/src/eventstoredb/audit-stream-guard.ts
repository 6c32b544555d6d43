/**
 * Streams are the audit log. Stream metadata that would hide, expire or restrict audit events ($maxAge,
 * $maxCount, $tb truncation, $acl) must never reach them, and nothing may be written to a system stream through
 * the port. The adapter's own bookkeeping streams (checkpoints, the command index) are not audit streams.
 */
export class AuditStreamProtectedError extends Error {
  readonly name = 'AuditStreamProtectedError';
}

export const CHECKPOINT_STREAM_PREFIX = 'checkpoint_';
export const COMMAND_INDEX_CATEGORY = 'cmkcommand';

// Both spellings: the client's (maxAge, ...) and the server's ($maxAge, ...).
const RETENTION_AND_ACCESS_KEYS = ['maxAge', 'maxCount', 'truncateBefore', 'acl', 'cacheControl', '$maxAge', '$maxCount', '$tb', '$acl', '$cacheControl'];

export function isBookkeepingStream(streamName: string): boolean {
  return streamName.startsWith(CHECKPOINT_STREAM_PREFIX) || streamName.startsWith(`${COMMAND_INDEX_CATEGORY}-`);
}

/** Appends through the port go to audit streams only: never to system or metadata streams. */
export function assertAuditStreamName(streamName: string): void {
  if (typeof streamName !== 'string' || streamName === '') throw new TypeError('stream name must be a non-empty string');
  if (streamName.startsWith('$')) throw new AuditStreamProtectedError(`refusing to write to system or metadata stream ${streamName}`);
  if (isBookkeepingStream(streamName)) throw new AuditStreamProtectedError(`${streamName} is reserved for the adapter's bookkeeping`);
}

export function assertMetadataAllowed(streamName: string, metadata: Record<string, unknown>): void {
  if (isBookkeepingStream(streamName)) return;
  const offending = RETENTION_AND_ACCESS_KEYS.filter((key) => Object.prototype.hasOwnProperty.call(metadata, key));
  if (offending.length > 0) {
    throw new AuditStreamProtectedError(`refusing to set ${offending.join(', ')} on audit stream ${streamName}: audit events must never expire, be truncated or be hidden`);
  }
}
