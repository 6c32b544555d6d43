import {
  AccessDeniedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  KeyProviderErrorDetails,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';

/** What the SDK throws for an HTTP answer or a failed request (`RestError` from @azure/core-rest-pipeline). */
interface RestErrorLike {
  name: string;
  statusCode?: number;
  code?: string;
  details?: { error?: { code?: string; innerError?: { code?: string } } };
  response?: { headers?: { get(name: string): string | undefined } };
}

export interface AzureFailure {
  status?: number;
  /** `error.code` of the body, or the Node error code for a failed request (ECONNREFUSED, ...). */
  code?: string;
  /** `error.innererror.code`: KeyDisabled, ForbiddenByRbac, AccessDenied, ... */
  innerCode?: string;
  retryAfterMs?: number;
}

const SAFE_CODE = /^[A-Za-z0-9_.+-]{1,64}$/;
const safe = (code: unknown): string | undefined => (typeof code === 'string' && SAFE_CODE.test(code) ? code : undefined);

/** Reads status, codes and Retry-After out of whatever the SDK threw; never the free-text message. */
export function azureFailure(e: unknown): AzureFailure {
  if (!(e instanceof Error)) return {};
  if (e.name === 'AbortError') return { code: 'Timeout' };
  const r = e as unknown as RestErrorLike;
  if (r.name !== 'RestError') return {};
  const body = r.details?.error;
  const retryAfter = r.response?.headers?.get('retry-after-ms') ?? r.response?.headers?.get('x-ms-retry-after-ms');
  const retryAfterSeconds = r.response?.headers?.get('retry-after');
  let retryAfterMs: number | undefined;
  if (retryAfter && /^\d+$/.test(retryAfter)) retryAfterMs = Number(retryAfter);
  else if (retryAfterSeconds && /^\d+$/.test(retryAfterSeconds)) retryAfterMs = Number(retryAfterSeconds) * 1000;
  else if (retryAfterSeconds) {
    const at = Date.parse(retryAfterSeconds);
    if (!Number.isNaN(at)) retryAfterMs = Math.max(0, at - Date.now());
  }
  return { status: r.statusCode, code: safe(body?.code) ?? safe(r.code), innerCode: safe(body?.innerError?.code), retryAfterMs };
}

/** Throttling, 5xx, timeouts and failed connections: the same call may succeed later. */
export function isTransient(e: unknown): boolean {
  if (e instanceof KeyProviderError) return e.retryable;
  const f = azureFailure(e);
  if (f.status !== undefined) return f.status === 408 || f.status === 429 || f.status >= 500;
  return f.code !== undefined;
}

export interface ErrorContext {
  operation: string;
  keyRef?: string;
}

/**
 * Maps what the SDK threw to a typed provider error. Messages carry the operation, the reference, the HTTP status
 * and the service's error codes only; Key Vault's messages are not passed through (they can echo names and ids
 * from the request). Errors already typed (from the credential) pass unchanged.
 */
export function toKeyProviderError(e: unknown, ctx: ErrorContext): KeyProviderError {
  if (e instanceof KeyProviderError) return e;
  const f = azureFailure(e);
  const providerCode = [f.code, f.innerCode].filter(Boolean).join('/') || (f.status ? String(f.status) : undefined);
  const details: KeyProviderErrorDetails = { operation: ctx.operation, keyRef: ctx.keyRef, providerCode };
  const where = `Azure Key Vault ${ctx.operation}${ctx.keyRef ? ` ${ctx.keyRef}` : ''}`;
  const answered = `${where}: ${f.status ?? 'no answer'} ${providerCode ?? ''}`.trim();
  if (f.status === undefined) {
    if (f.code) return new ProviderUnavailableError(answered, details);
    return sdkLocalError(e, where, details);
  }
  if (f.status === 404) return new KeyNotFoundError(answered, details);
  if (f.status === 401) return new AccessDeniedError(answered, details);
  if (f.status === 403) {
    if (f.innerCode === 'KeyDisabled' || f.innerCode === 'KeyExpired' || f.innerCode === 'KeyNotYetValid') return new KeyDisabledError(answered, details);
    return new AccessDeniedError(answered, details);
  }
  if (f.status === 409) return new KeyDisabledError(`${answered} (the key is deleted but recoverable, or busy)`, details);
  if (f.status === 408 || f.status === 429 || f.status >= 500) return new ProviderUnavailableError(answered, details);
  if (f.status === 400 && (ctx.operation === 'unwrap' || ctx.operation === 'decrypt')) return new InvalidCiphertextError(answered, details);
  return new UnsupportedOperationError(answered, details);
}

/**
 * The SDK's CryptographyClient checks a key's validity period and key_ops locally before calling the vault and
 * throws plain Errors for those; they are recognised by shape so a key outside its validity reads as disabled.
 */
function sdkLocalError(e: unknown, where: string, details: KeyProviderErrorDetails): KeyProviderError {
  const message = e instanceof Error ? e.message : '';
  if (/ expired at | can't be used before /.test(message)) return new KeyDisabledError(`${where}: the key is outside its validity period`, { ...details, providerCode: 'KeyExpired' });
  if (/^Operation \w+ is not supported on key |^Unable to support operation/.test(message)) {
    return new UnsupportedOperationError(`${where}: the key's key_ops or type do not allow this`, { ...details, providerCode: 'KeyOperationNotAllowed' });
  }
  const kind = e instanceof Error ? e.name : typeof e;
  return new ProviderUnavailableError(`${where} failed (${kind})`, details);
}
