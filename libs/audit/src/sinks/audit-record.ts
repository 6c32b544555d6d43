/**
 * A governance event as it leaves the control plane for a SIEM. Deliberately its own type (not the event store's
 * RecordedEvent) so sinks can be fed from any source and the export format does not move when the store does.
 * `data` never contains key material: events carry key references, fingerprints and wrapped blobs only.
 */
export interface AuditRecord {
  /** Global position in the event log, a bigint written as a decimal string (JSON has no 64-bit integers). */
  position: string;
  streamId: string;
  /** Revision of the event inside its stream, from 0. */
  revision: number;
  /** Past-tense PascalCase fact, e.g. `KeyLinkRevoked`. */
  type: string;
  /** ISO 8601 timestamp of when the fact happened. */
  occurredAt: string;
  data: Record<string, unknown>;
  metadata: AuditRecordMetadata;
}

export interface AuditActor {
  subject: string;
  roles: string[];
  tenantScope: string[] | string | null;
}

export interface AuditRecordMetadata {
  actor?: AuditActor;
  commandId?: string;
  correlationId?: string;
  [key: string]: unknown;
}

/** Positions compare as integers, never as strings ("10" < "9" lexically). */
export function parsePosition(position: string, field = 'position'): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(position)) throw new RangeError(`${field} must be a non-negative decimal integer string`);
  return BigInt(position);
}

/** The category of a `category-id` stream name (`keylink-<uuid>` → `keylink`). */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/** A short human name for an event type: `KeyLinkRevoked` → `Key link revoked`. */
export function eventDisplayName(type: string): string {
  const words = type.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').split(/[\s_.-]+/);
  const text = words.filter(Boolean).map((w, i) => (i === 0 ? w : /^[A-Z0-9]+$/.test(w) ? w : w.toLowerCase())).join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
