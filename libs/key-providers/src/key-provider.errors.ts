/**
 * Typed failures of a {@link KeyProvider}. `code` is stable and machine-readable (the edge maps it to a
 * problem type); `message` is for humans. Neither, nor `details`, ever carries key material, plaintext, PINs,
 * tokens or other credentials: adapters build messages from key references and provider status names only,
 * and never pass a provider's raw error text through when it could echo an argument.
 */
export type KeyProviderErrorCode =
  | 'key-not-found'
  | 'key-disabled'
  | 'provider-unavailable'
  | 'access-denied'
  | 'invalid-ciphertext'
  | 'invalid-key-reference'
  | 'unsupported-operation'
  | 'import-refused';

export interface KeyProviderErrorDetails {
  /** The key reference the call was about (references are not secret). */
  keyRef?: string;
  /** The operation that failed: `wrap`, `unwrap`, `describeKey`, `login`, ... */
  operation?: string;
  /** The provider's own status name, e.g. `CKR_KEY_FUNCTION_NOT_PERMITTED` or `KMSInvalidStateException`. */
  providerCode?: string;
}

export abstract class KeyProviderError extends Error {
  abstract readonly code: KeyProviderErrorCode;
  /** True when the same call may succeed later without anyone changing anything. */
  readonly retryable: boolean = false;

  constructor(
    message: string,
    readonly details: KeyProviderErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class KeyNotFoundError extends KeyProviderError {
  readonly code = 'key-not-found';
}

export class KeyDisabledError extends KeyProviderError {
  readonly code = 'key-disabled';
}

export class ProviderUnavailableError extends KeyProviderError {
  readonly code = 'provider-unavailable';
  override readonly retryable = true;
}

export class AccessDeniedError extends KeyProviderError {
  readonly code = 'access-denied';
}

export class InvalidCiphertextError extends KeyProviderError {
  readonly code = 'invalid-ciphertext';
}

export class InvalidKeyReferenceError extends KeyProviderError {
  readonly code = 'invalid-key-reference';
}

/** The key exists but cannot do what was asked (wrong key type, plaintext too long for the key). */
export class UnsupportedOperationError extends KeyProviderError {
  readonly code = 'unsupported-operation';
}

/**
 * BYOK: the provider refused key material offered for import. `rule` says which check failed:
 * - `expired`: the import parameters (wrapping key, import token) are past their expiry;
 * - `mismatch`: the wrapped material, the import token and the wrapping algorithm do not belong together (wrapped
 *   under other parameters, or for another key);
 * - `key-size`: the material unwrapped, but its length is not what the target key declares;
 * - `corrupted`: the blob does not unwrap under the wrapping key at all (changed, truncated, garbage);
 * - `state`: the target does not accept material now (already imported, disabled, deleted).
 */
export type ImportRefusalRule = 'expired' | 'mismatch' | 'key-size' | 'corrupted' | 'state';
export class ImportRefusedError extends KeyProviderError {
  readonly code = 'import-refused';
  constructor(
    readonly rule: ImportRefusalRule,
    message: string,
    details: KeyProviderErrorDetails = {},
  ) {
    super(message, details);
  }
}

/** A provider setting is missing or malformed; raised at start-up, names the setting, never echoes secrets. */
export class InvalidProviderConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'InvalidProviderConfigError';
  }
}

export function isKeyProviderError(e: unknown): e is KeyProviderError {
  return e instanceof KeyProviderError;
}
