import type { JSONWebKeySet, JWK } from 'jose';
import { isAllowedEndpoint } from './trusted-issuer';

export type FetchFn = (url: string, init: { signal: AbortSignal; redirect: 'error'; headers: Record<string, string> }) => Promise<Response>;

/** Why loading an issuer's keys failed. The message names the endpoint and the cause; never a key or a token. */
export class JwksFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksFetchError';
  }
}

/** Key sets and discovery documents are a few KiB; a larger answer is a misconfiguration or an attack. */
const MAX_DOCUMENT_BYTES = 512 * 1024;
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const SIGNING_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/** For messages and logs: an endpoint without credentials or query, which could carry secrets. */
function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

/** Redirects are refused so a compromised or misconfigured endpoint cannot steer the fetch to internal hosts. */
export async function fetchJson(fetchFn: FetchFn, target: string, timeoutMs: number): Promise<unknown> {
  const url = endpointName(target);
  let res: Response;
  try {
    res = await fetchFn(target, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
  } catch (error) {
    const cause = (error as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'request failed (connection, TLS or a redirect)';
    throw new JwksFetchError(`${url}: ${cause}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new JwksFetchError(`${url}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_DOCUMENT_BYTES) {
    await res.body?.cancel();
    throw new JwksFetchError(`${url}: document larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  const body = await res.arrayBuffer().catch(() => {
    throw new JwksFetchError(`${url}: connection failed while reading`);
  });
  if (body.byteLength > MAX_DOCUMENT_BYTES) throw new JwksFetchError(`${url}: document larger than ${MAX_DOCUMENT_BYTES} bytes`);
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new JwksFetchError(`${url}: not JSON`);
  }
}

/** OpenID Connect Discovery 1.0 §4.3: the document's `issuer` must equal the configured one exactly. */
export function jwksUriFromDiscovery(document: unknown, issuer: string, target: string): string {
  const url = endpointName(target);
  if (!document || typeof document !== 'object') throw new JwksFetchError(`${url}: not a discovery document`);
  const { issuer: claimed, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (claimed !== issuer) throw new JwksFetchError(`${url}: discovery document names another issuer`);
  if (typeof jwksUri !== 'string' || !isAllowedEndpoint(jwksUri)) throw new JwksFetchError(`${url}: jwks_uri is missing or not https`);
  return jwksUri;
}

/**
 * Keeps the public signing keys of a JWKS. Symmetric keys, keys for encryption and entries carrying private
 * members are dropped: none of them may ever verify a token, whatever the token's header asks for.
 */
export function signingKeys(document: unknown, target: string): JSONWebKeySet {
  const url = endpointName(target);
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new JwksFetchError(`${url}: not a JWK set`);
  const usable = keys.filter(
    (k): k is JWK =>
      !!k &&
      typeof k === 'object' &&
      SIGNING_KEY_TYPES.has((k as JWK).kty as string) &&
      ((k as JWK).use === undefined || (k as JWK).use === 'sig') &&
      PRIVATE_KEY_MEMBERS.every((m) => !(m in k)),
  );
  return { keys: usable };
}
