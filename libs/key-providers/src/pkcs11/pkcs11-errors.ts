import * as pkcs11js from 'pkcs11js';
import {
  AccessDeniedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';

const CKR = pkcs11js as unknown as Record<string, number>;
const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(CKR)) {
  if (name.startsWith('CKR_') && typeof value === 'number' && !NAMES.has(value)) NAMES.set(value, name);
}

/** The CKR_* return value carried by a pkcs11js error, if it is one. */
export function ckrOf(e: unknown): number | undefined {
  if (e instanceof Error && e.name === 'Pkcs11Error' && typeof (e as { code?: unknown }).code === 'number') {
    return (e as unknown as { code: number }).code;
  }
  return undefined;
}

export function ckrName(code: number): string {
  return NAMES.get(code) ?? `CKR_0x${code.toString(16)}`;
}

export function isCkr(e: unknown, ...names: string[]): boolean {
  const code = ckrOf(e);
  return code !== undefined && names.some((n) => CKR[n] === code);
}

/** The module was finalised or re-initialised under us, or our sessions died: re-initialise and retry once. */
export function needsSessionRecovery(e: unknown): boolean {
  return isCkr(
    e,
    'CKR_CRYPTOKI_NOT_INITIALIZED',
    'CKR_SESSION_HANDLE_INVALID',
    'CKR_SESSION_CLOSED',
    'CKR_DEVICE_REMOVED',
    'CKR_TOKEN_NOT_PRESENT',
    'CKR_USER_NOT_LOGGED_IN',
  );
}

/** A cached object handle no longer names an object (destroyed, or a new module generation): look it up again. */
export function needsKeyLookup(e: unknown): boolean {
  return isCkr(e, 'CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID');
}

export interface ErrorContext {
  operation: string;
  keyRef?: string;
}

/**
 * Maps whatever a PKCS#11 call threw to a typed provider error. Messages carry the operation, the key
 * reference and the CKR name only: never a PIN or data (pkcs11js errors do not echo arguments, and the
 * messages of other errors are not passed through).
 */
export function toKeyProviderError(e: unknown, ctx: ErrorContext): KeyProviderError {
  if (e instanceof KeyProviderError) return e;
  const code = ckrOf(e);
  const where = ctx.keyRef ? `${ctx.operation} ${ctx.keyRef}` : ctx.operation;
  if (code === undefined) {
    const kind = e instanceof Error ? e.name : typeof e;
    return new ProviderUnavailableError(`PKCS#11 ${where} failed (${kind})`, { operation: ctx.operation, keyRef: ctx.keyRef });
  }
  const name = ckrName(code);
  const details = { operation: ctx.operation, keyRef: ctx.keyRef, providerCode: name };
  switch (name) {
    case 'CKR_KEY_FUNCTION_NOT_PERMITTED':
      return new KeyDisabledError(`key is not allowed to ${ctx.operation}: ${where} (${name})`, details);
    case 'CKR_KEY_HANDLE_INVALID':
    case 'CKR_OBJECT_HANDLE_INVALID':
      return new KeyNotFoundError(`key no longer exists: ${where} (${name})`, details);
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
    case 'CKR_PIN_EXPIRED':
    case 'CKR_PIN_LOCKED':
    case 'CKR_USER_PIN_NOT_INITIALIZED':
    case 'CKR_USER_NOT_LOGGED_IN':
    case 'CKR_USER_TYPE_INVALID':
    case 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN':
      return new AccessDeniedError(`PKCS#11 token refused the user: ${where} (${name})`, details);
    case 'CKR_ENCRYPTED_DATA_INVALID':
    case 'CKR_ENCRYPTED_DATA_LEN_RANGE':
      return new InvalidCiphertextError(`ciphertext does not verify under ${ctx.keyRef ?? 'the key'} (${name})`, details);
    case 'CKR_KEY_TYPE_INCONSISTENT':
    case 'CKR_MECHANISM_INVALID':
    case 'CKR_MECHANISM_PARAM_INVALID':
    case 'CKR_DATA_LEN_RANGE':
      return new UnsupportedOperationError(`key cannot ${ctx.operation} this way: ${where} (${name})`, details);
  }
  return new ProviderUnavailableError(`PKCS#11 ${where} failed (${name})`, details);
}
