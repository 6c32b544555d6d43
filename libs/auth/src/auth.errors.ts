/**
 * Why a token was refused. Stable: clients, dashboards and alerts key on these, so a value is never renamed.
 * `invalid-claims` covers a missing subject or expiry, and a workload token whose client maps to no system;
 * `issuer-unavailable` means the issuer is trusted but none of its keys could be loaded yet.
 */
export type TokenRefusalReason =
  | 'malformed'
  | 'unknown-issuer'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'invalid-claims'
  | 'issuer-unavailable';

/** Refusal to authenticate a request. `reason` is a short human text, safe for a 401 body: never token text. */
export class AuthenticationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'AuthenticationError';
  }
}

/**
 * Texts callers already match on ('token expired', 'token is malformed', 'not allowed', 'claim "aud"', 'must
 * expire') are kept; the `code` is what new callers should branch on.
 */
const DEFAULT_DETAIL: Record<TokenRefusalReason, string> = {
  malformed: 'token is malformed',
  'unknown-issuer': 'token claim "iss" is not a trusted issuer',
  'unsupported-algorithm': 'token algorithm is not allowed',
  'unknown-key': 'token signing key is unknown',
  'bad-signature': 'token signature is invalid',
  expired: 'token expired',
  'not-yet-valid': 'token is not yet valid',
  'wrong-audience': 'token claim "aud" is invalid (not issued for this service)',
  'invalid-claims': 'token claims are invalid',
  'issuer-unavailable': "token issuer's signing keys are unavailable",
};

/** A bearer token refused by verification, with a stable `code`. Extends AuthenticationError for existing callers. */
export class TokenRefused extends AuthenticationError {
  constructor(
    readonly code: TokenRefusalReason,
    detail: string = DEFAULT_DETAIL[code],
  ) {
    super(detail);
    this.name = 'TokenRefused';
  }
}
