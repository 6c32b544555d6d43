import type { DomainEvent } from '../shared/decider';
import { Categories, streamName } from '../shared/stream-names';

/**
 * Refused requests, recorded for auditors (who tried what, and why it was refused). Facts reported by the edge,
 * not decided by an aggregate. They never carry the bearer token, nor anything read from a token that failed
 * verification: an unverified `sub` or `iss` is whatever the caller chose to write.
 */

/** Why a request was refused: a TokenRefused code, or one of the edge's own reasons. */
export type AccessDeniedReason =
  | 'missing-token'
  | 'malformed-authorization-header'
  | 'malformed'
  | 'unknown-issuer'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'invalid-claims'
  | 'issuer-unavailable'
  | 'role-missing'
  | 'tenant-scope';

export const UNAUTHENTICATED_SUBJECT = 'unauthenticated';

export type AccessDenied = DomainEvent<
  'AccessDenied',
  {
    at: string;
    method: string;
    /** The route template (`/v1/key-links/:keyLinkId`); the concrete ids are in `target`. */
    path: string;
    target: Record<string, string>;
    status: 401 | 403;
    reason: AccessDeniedReason;
    /** The verified subject, or `unauthenticated`. */
    subject: string;
    issuer?: string;
    roles: string[];
    /** The tenant a scope refusal named; never the audit index's tenant (a refusal is the platform's record). */
    refusedTenantId?: string;
    source: string;
    correlationId?: string;
  }
>;

/** Refusals beyond the per-source budget, counted instead of recorded one by one. */
export type AccessDeniedSuppressed = DomainEvent<
  'AccessDeniedSuppressed',
  {
    source: string;
    status: 401 | 403;
    count: number;
    window: { from: string; to: string };
  }
>;

export type AccessEvent = AccessDenied | AccessDeniedSuppressed;

/** One stream per UTC day keeps streams short and lets retention drop whole days. */
export function deniedStream(at: Date): string {
  return streamName(Categories.denied, at.toISOString().slice(0, 10).replace(/-/g, ''));
}
