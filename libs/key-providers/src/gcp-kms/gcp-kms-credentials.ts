import { createPrivateKey, KeyObject, sign } from 'node:crypto';
import type { CredentialResolver } from '../credentials/credential-source';
import { AccessDeniedError } from '../key-provider.errors';
import type { GcpKmsCredentialRefs } from './gcp-kms-key-provider.config';

/** The audience Google documents for self-signed JWTs to Cloud KMS (AIP-4111). */
export const CLOUD_KMS_AUDIENCE = 'https://cloudkms.googleapis.com/';
/** Google accepts self-signed JWTs valid for at most one hour. */
const JWT_LIFETIME_S = 3600;

/** Supplies the bearer token sent with each call; caches it for a bounded time, never the secret it came from. */
export interface AccessTokenSource {
  token(): Promise<string>;
  /** Drops the cached token (after UNAUTHENTICATED), so the next call reads the reference again. */
  invalidate(): void;
}

/**
 * Builds the token source for the configured references. A token is reused until `refreshMs` has passed (and, for
 * JWTs, well before it expires); concurrent callers share one resolution.
 */
export function accessTokenSource(refs: GcpKmsCredentialRefs, resolver: CredentialResolver, refreshMs: number, now: () => number = Date.now): AccessTokenSource {
  const mint = 'serviceAccountKey' in refs ? () => selfSignedJwt(refs.serviceAccountKey, resolver, now) : () => readAccessToken(refs.accessToken, resolver);
  // A JWT is re-signed with a margin of 10 minutes before it expires, however long refreshMs is.
  const lifetimeMs = 'serviceAccountKey' in refs ? Math.min(refreshMs, (JWT_LIFETIME_S - 600) * 1000) : refreshMs;
  let cached: { token: Promise<string>; until: number } | undefined;
  return {
    token() {
      if (!cached || now() >= cached.until) {
        const token = mint();
        const entry = { token, until: now() + lifetimeMs };
        cached = entry;
        token.catch(() => {
          if (cached === entry) cached = undefined;
        });
      }
      return cached.token;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** A token is one printable word; anything else (a pasted JSON file, two lines) would break or smuggle headers. */
async function readAccessToken(ref: string, resolver: CredentialResolver): Promise<string> {
  const token = (await resolver.resolve(ref)).trim();
  if (!/^[\x21-\x7e]{8,4096}$/.test(token)) {
    throw new AccessDeniedError(`credential ${ref} does not hold an OAuth 2.0 access token`, { operation: 'resolve-credential' });
  }
  return token;
}

interface ServiceAccountKey {
  clientEmail: string;
  privateKeyId?: string;
  privateKey: KeyObject;
}

/**
 * Signs `{iss, sub, aud, iat, exp}` with the service account's RSA key (RS256, `kid` = private_key_id), as
 * Google's client libraries do for self-signed JWT access. The key file is read for each new token and the
 * parsed key is dropped afterwards.
 */
async function selfSignedJwt(ref: string, resolver: CredentialResolver, now: () => number): Promise<string> {
  const key = parseServiceAccountKey(await resolver.resolve(ref), ref);
  const iat = Math.floor(now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, sub: key.clientEmail, aud: CLOUD_KMS_AUDIENCE, iat, exp: iat + JWT_LIFETIME_S };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Refusals name the reference and the field, never any content (a JSON parse error would quote it). */
export function parseServiceAccountKey(json: string, ref: string): ServiceAccountKey {
  const refuse = (why: string) => new AccessDeniedError(`credential ${ref} is not a usable service-account key: ${why}`, { operation: 'resolve-credential' });
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw refuse('not JSON');
  }
  if (parsed === null || typeof parsed !== 'object') throw refuse('not a JSON object');
  if (parsed.type !== 'service_account') throw refuse('type is not service_account');
  if (typeof parsed.client_email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(parsed.client_email)) throw refuse('client_email missing');
  if (typeof parsed.private_key !== 'string') throw refuse('private_key missing');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(parsed.private_key);
  } catch {
    throw refuse('private_key is not a readable PEM key');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw refuse('private_key is not an RSA key');
  const privateKeyId = typeof parsed.private_key_id === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(parsed.private_key_id) ? parsed.private_key_id : undefined;
  return { clientEmail: parsed.client_email, privateKeyId, privateKey };
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
