import {
  AccessDeniedError,
  ImportRefusalRule,
  ImportRefusedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';

export interface AwsErrorContext {
  operation: string;
  keyRef?: string;
}

/** What the adapter reads of an SDK error: never its message, which may echo request fields (local-kms echoes plaintext). */
interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const TRANSIENT = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSInternalException',
  'InternalFailureException',
  'DependencyTimeoutException',
  'ServiceUnavailableException',
  'KeyUnavailableException',
  'CustomKeyStoreInvalidStateException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'NotAuthorizedException',
  'CredentialsProviderError',
]);

/** The SDK's name for the failure (`NotFoundException`, ...), a socket code, or `HTTP <status>`: safe to log. */
export function awsErrorCode(e: unknown): string {
  const shape = (e ?? {}) as AwsErrorShape;
  const status = shape.$metadata?.httpStatusCode;
  if (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) return shape.code;
  const wrapped = wrappedNetworkCode(shape);
  if (wrapped) return wrapped;
  const name = typeof shape.name === 'string' ? shape.name : undefined;
  // A body the SDK could not parse (a proxy's HTML page, local-kms's text 501) surfaces as a SyntaxError.
  if ((!name || name === 'SyntaxError' || name === 'Error') && typeof status === 'number') return `HTTP ${status}`;
  return name && /^[A-Za-z][A-Za-z0-9_.-]{0,80}$/.test(name) ? name : 'UnknownError';
}

/**
 * The SDK wraps what is not an `instanceof Error` in its realm (a socket error crossing a vm context, as under
 * Jest) into `AWS SDK error wrapper for <text>`, dropping `code`. Only a known socket code is read back out of
 * that text; nothing else of it is used.
 */
function wrappedNetworkCode(shape: AwsErrorShape): string | undefined {
  if (typeof shape.message !== 'string' || !shape.message.startsWith('AWS SDK error wrapper for ')) return undefined;
  const code = /\b(E[A-Z]{3,}|ERR_[A-Z_]+)\b/.exec(shape.message)?.[1];
  return code && NETWORK_CODES.has(code) ? code : undefined;
}

/** Transient: the same call may succeed later without anyone changing anything. Only these are retried. */
export function isTransientAwsError(e: unknown): boolean {
  if (e instanceof KeyProviderError) return e instanceof ProviderUnavailableError;
  const shape = (e ?? {}) as AwsErrorShape;
  const code = awsErrorCode(e);
  const status = shape.$metadata?.httpStatusCode;
  if (NETWORK_CODES.has(code) || TRANSIENT.has(code)) return true;
  if (code === 'AbortError') return true;
  if (code === 'HTTP 501') return false;
  if (typeof status === 'number') return status >= 500 || status === 429;
  // Sent through the SDK but no HTTP response came back: the transport failed, not the request.
  return shape.$fault === 'server' || shape.$metadata !== undefined;
}

/**
 * Maps an AWS KMS failure to the typed errors of the port. Messages carry the operation, the key reference and
 * the provider's error name only; the provider's own text is dropped because it may echo arguments.
 */
export function toKeyProviderError(e: unknown, ctx: AwsErrorContext): KeyProviderError {
  if (e instanceof KeyProviderError) return e;
  const providerCode = awsErrorCode(e);
  const details = { operation: ctx.operation, keyRef: ctx.keyRef, providerCode };
  const where = ctx.keyRef ? `${ctx.operation} ${ctx.keyRef}` : ctx.operation;
  switch (providerCode) {
    case 'NotFoundException':
      return new KeyNotFoundError(`AWS KMS key not found: ${where} (${providerCode})`, details);
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new KeyDisabledError(`AWS KMS key may not ${ctx.operation} in its current state: ${where} (${providerCode})`, details);
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return new InvalidCiphertextError(`ciphertext does not verify under ${ctx.keyRef ?? 'the key'} (${providerCode})`, details);
    case 'InvalidKeyUsageException':
    case 'UnsupportedOperationException':
    case 'HTTP 501':
      return new UnsupportedOperationError(`AWS KMS cannot ${ctx.operation} with this key or endpoint: ${where} (${providerCode})`, details);
    case 'InvalidArnException':
      return new KeyNotFoundError(`AWS KMS does not accept the key reference: ${where} (${providerCode})`, details);
  }
  if (DENIED.has(providerCode)) {
    return new AccessDeniedError(`AWS KMS refused the caller: ${where} (${providerCode})`, details);
  }
  if (isTransientAwsError(e)) {
    return new ProviderUnavailableError(`AWS KMS is unavailable: ${where} (${providerCode})`, details);
  }
  const status = (e as AwsErrorShape | undefined)?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // A 4xx the adapter did not expect (ValidationException, ...): the request was refused as made.
    return new UnsupportedOperationError(`AWS KMS refused ${where} (${providerCode})`, details);
  }
  return new ProviderUnavailableError(`AWS KMS ${where} failed (${providerCode})`, details);
}

/** ImportKeyMaterial refusals name the rule; `firstImport` tells a malformed key from a different one. */
export function toImportError(e: unknown, ctx: AwsErrorContext & { firstImport: boolean }): KeyProviderError {
  if (e instanceof KeyProviderError) return e;
  const providerCode = awsErrorCode(e);
  const details = { operation: ctx.operation, keyRef: ctx.keyRef, providerCode };
  const refuse = (rule: ImportRefusalRule, why: string) => new ImportRefusedError(rule, `${why}: ${ctx.keyRef} (${providerCode})`, details);
  switch (providerCode) {
    case 'ExpiredImportTokenException':
      return refuse('expired', 'the import parameters have expired');
    case 'InvalidImportTokenException':
      return refuse('mismatch', 'the import token does not belong to this key or was replaced by newer import parameters');
    case 'InvalidCiphertextException':
      return refuse('corrupted', 'the wrapped key material does not unwrap under the import wrapping key');
    case 'IncorrectKeyMaterialException':
      // Before any material was imported only the material's own shape can be wrong; afterwards KMS accepts
      // only the same material again (a different key would silently change what old ciphertexts need).
      return ctx.firstImport
        ? refuse('key-size', 'the unwrapped key material is not a 256-bit symmetric key')
        : refuse('mismatch', 'the key material differs from the material this key already holds');
    case 'KMSInvalidStateException':
    case 'DisabledException':
    case 'UnsupportedOperationException':
      return refuse('state', 'the key does not accept key material now');
    case 'ValidationException':
      return refuse('corrupted', 'AWS KMS refused the wrapped key material as malformed');
  }
  return toKeyProviderError(e, ctx);
}
