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
  | 'unsupported-operation';

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
