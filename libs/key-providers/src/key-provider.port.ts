/**
 * The KeyProvider port: how CMK reaches a customer's root of trust (L1) in an HSM or a cloud KMS.
 *
 * Guarantees every adapter gives, checked by the one contract suite (`testing/key-provider.contract.ts`):
 *
 * - Key material never leaves the provider. Nothing returned, thrown or logged contains plaintext key
 *   material, PINs, tokens or other credentials; `fingerprint` is safe to put in events.
 * - `wrap` is authenticated and randomised: wrapping the same plaintext twice gives different ciphertexts, and
 *   `unwrap` returns the original bytes only for the same key and the same `aad`. A wrong key, a different or
 *   missing `aad`, or any change to the ciphertext fails with {@link InvalidCiphertextError}; it never returns
 *   wrong bytes.
 * - Failures are typed (see `key-provider.errors.ts`): {@link KeyNotFoundError}, {@link KeyDisabledError},
 *   {@link AccessDeniedError}, {@link InvalidCiphertextError}, {@link InvalidKeyReferenceError},
 *   {@link UnsupportedOperationError}, and {@link ProviderUnavailableError} (the only retryable one). Adapters
 *   retry transient provider faults they can recover from (a lost session, a re-initialised module) at most
 *   once before reporting them.
 * - Every method is safe to call concurrently; adapters bound the provider resources they hold (sessions,
 *   connections) and queue callers beyond that bound.
 * - After `close()` resolves, every call rejects with {@link ProviderUnavailableError}; `close()` is idempotent.
 */
import type { ImportWrappingAlgorithm, ImportWrappingKeySpec } from '@cmk/domain';
import type {
  AccessDeniedError,
  InvalidCiphertextError,
  InvalidKeyReferenceError,
  KeyDisabledError,
  KeyNotFoundError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from './key-provider.errors';

/**
 * A key reference: an opaque string naming one key at one provider, safe to store in events. The scheme names
 * the provider: `pkcs11:token=<label>;object=<label>` or `pkcs11:token=<label>;id=<hex>` (RFC 7512 URIs, see
 * `pkcs11/pkcs11-uri.ts`), later `arn:aws:kms:...`, `projects/.../cryptoKeys/...`, `https://<vault>/keys/...`.
 * A reference never carries a credential.
 */
export type KeyRef = string;

/**
 * `destroyed` is for providers that keep tombstones (KMS versions pending deletion or destroyed);
 * `pending-import` is a BYOK target created without key material that waits for {@link KeyProvider.importKeyMaterial}.
 */
export type KeyState = 'enabled' | 'disabled' | 'destroyed' | 'pending-import' | 'unknown';

/** Key family as the provider reports it: `AES`, `RSA`, `EC`, ... */
export type KeyAlgorithm = 'AES' | 'RSA' | 'EC' | (string & {});

/** The scheme a ciphertext was produced with; stored next to wrapped blobs. */
export type WrapAlgorithm = 'AES_256_GCM' | 'AES_128_GCM' | 'AES_192_GCM' | 'RSAES_OAEP_SHA_256' | (string & {});

export interface KeyDescription {
  ref: KeyRef;
  algorithm: KeyAlgorithm;
  sizeBits: number;
  /** `enabled` only when the key may be used for both wrap and unwrap now. */
  state: KeyState;
  /** Where the key lives: a region, a vault, or an HSM token. */
  location?: string;
  /** Provider-side version of the key, where the provider versions keys. */
  version?: string;
  /**
   * Stable identifier of the key material that reveals nothing about it: `kcv:<6 hex>` (the classic key check
   * value, the first 3 bytes of AES-ECB over a zero block, as HSMs and BYOK tools print it) for symmetric keys,
   * `sha256:<64 hex>` of the DER SubjectPublicKeyInfo for asymmetric keys. Same key, same fingerprint, whatever
   * the key's state. `unavailable` only for key types the adapter cannot wrap with (e.g. EC on PKCS#11).
   * Cloud KMSs reveal nothing derived from symmetric key material; there it is `keyversion:sha256:<64 hex>`, the
   * hash of the provider's immutable identifier of the current key version (so a rotation at the provider changes
   * it, and nothing about the material is revealed).
   */
  fingerprint: string;
}

/**
 * BYOK transport wrapping, as the cloud KMSs name it:
 * - `RSAES_OAEP_SHA_256`: the key material encrypted directly with RSA-OAEP (SHA-256, MGF1-SHA-256);
 * - `RSA_AES_KEY_WRAP_SHA_256`: a fresh AES-256 key encrypted with RSA-OAEP-SHA-256, followed by the key material
 *   wrapped under it with AES key wrap with padding (RFC 5649), the CKM_RSA_AES_KEY_WRAP layout.
 * `byok/byok-wrap.ts` produces both, offline, on the customer's machine.
 */
export { IMPORT_WRAPPING_ALGORITHMS, IMPORT_WRAPPING_KEY_SPECS } from '@cmk/domain';
export type { ImportWrappingAlgorithm, ImportWrappingKeySpec } from '@cmk/domain';

export interface ImportParametersRequest {
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: ImportWrappingKeySpec;
}

/** What the customer needs to wrap their key material for one import. Nothing in it is secret. */
export interface ImportParameters {
  /** Opaque provider handle of this import session (AWS import token, GCP import job name, ...). */
  importToken: string;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: ImportWrappingKeySpec;
  /** The wrapping public key: PEM of the DER SubjectPublicKeyInfo. */
  publicKeyPem: string;
  /** After this the provider refuses material wrapped under these parameters. */
  expiresAt: Date;
}

export interface KeyMaterialImport {
  importToken: string;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  /** The customer's key material wrapped under the parameters' public key; CMK never sees it unwrapped. */
  wrappedKeyMaterial: Buffer;
}

export interface WrapResult {
  /** Self-contained: everything `unwrap` needs besides the key and the aad (IV, tag) is inside. */
  ciphertext: Buffer;
  algorithm: WrapAlgorithm;
}

export interface ProofOfPossessionResult {
  /** True when a fresh random challenge came back unchanged through wrap then unwrap. */
  ok: boolean;
  latencyMs: number;
}

export interface ProviderHealth {
  healthy: boolean;
  latencyMs: number;
  /** Why the provider is unhealthy; never contains credentials. */
  reason?: string;
}

export interface KeyProvider {
  /** Short provider kind for logs and metrics: `pkcs11`, `aws-kms`, ... */
  readonly kind: string;

  /**
   * Reads the key's metadata. Fails with {@link KeyNotFoundError} for a key that does not exist (or is not
   * visible with the configured credentials) and {@link InvalidKeyReferenceError} for a malformed reference.
   */
  describeKey(ref: KeyRef): Promise<KeyDescription>;

  /**
   * Encrypts `plaintext` (typically key material, e.g. an L2 key) under the key, binding `aad` when given.
   * Fails with {@link KeyDisabledError} when the key may not encrypt, {@link UnsupportedOperationError} when the
   * key cannot wrap (wrong type, plaintext too long for an RSA key).
   */
  wrap(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<WrapResult>;

  /**
   * Reverses {@link wrap}. Fails with {@link InvalidCiphertextError} when the ciphertext was not produced by
   * this key with this `aad`, or was changed; {@link KeyDisabledError} when the key may not decrypt.
   */
  unwrap(ref: KeyRef, ciphertext: Buffer, aad?: Buffer): Promise<Buffer>;

  /**
   * Wraps a fresh random challenge under the key and unwraps it again (in the key's own location). Resolves
   * `{ ok: true }` when the challenge came back unchanged; rejects with the typed error that stopped the round
   * trip (not found, disabled, access denied, unavailable), so a health sync can record why.
   */
  proofOfPossession(ref: KeyRef): Promise<ProofOfPossessionResult>;

  /**
   * BYOK, step 1: a wrapping public key and an import token for the key `ref` (a target awaiting material, or a
   * name the import will create, as the provider works). Rejects with {@link UnsupportedOperationError} when the
   * provider or key cannot import, naming why.
   */
  getImportParameters(ref: KeyRef, request: ImportParametersRequest): Promise<ImportParameters>;

  /**
   * BYOK, step 2: hands the wrapped material to the provider, which unwraps it inside its boundary. Resolves with
   * the key's description (`enabled`). Refusals are {@link ImportRefusedError} naming the rule; the target is
   * unchanged after a refusal.
   */
  importKeyMaterial(ref: KeyRef, material: KeyMaterialImport): Promise<KeyDescription>;

  /**
   * Creates a new primary version of the key at the provider. Ciphertexts made under earlier versions still
   * unwrap; new wraps use the new version; `describeKey` reports the new `version`. Rejects with
   * {@link UnsupportedOperationError} where the provider cannot rotate (the caller records a rotation-due finding).
   */
  rotateKey(ref: KeyRef): Promise<KeyDescription>;

  /** Checks the provider is reachable and our credentials are accepted. Never rejects. */
  health(): Promise<ProviderHealth>;

  /** Waits for calls in flight, then releases sessions and connections. Idempotent. */
  close(): Promise<void>;
}

/** Every typed failure a {@link KeyProvider} call may reject with. */
export type KeyProviderFailure =
  | KeyNotFoundError
  | KeyDisabledError
  | ProviderUnavailableError
  | AccessDeniedError
  | InvalidCiphertextError
  | InvalidKeyReferenceError
  | UnsupportedOperationError;
