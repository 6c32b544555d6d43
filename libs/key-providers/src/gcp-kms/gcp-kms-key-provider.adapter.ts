import { performance } from 'node:perf_hooks';
import { CredentialResolver, DefaultCredentialResolver } from '../credentials/credential-source';
import {
  InvalidCiphertextError,
  KeyDisabledError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { KeyProviderLogger, silentLogger } from '../key-provider.logger';
import type {
  ImportParameters,
  ImportParametersRequest,
  KeyDescription,
  KeyMaterialImport,
  KeyProvider,
  KeyRef,
  ProofOfPossessionResult,
  ProviderHealth,
  WrapResult,
} from '../key-provider.port';
import { proveByRoundTrip } from '../proof-of-possession';
import { InFlightCalls } from '../in-flight-calls';
import { crc32c, int64Value } from './crc32c';
import { CallOptions, GcpKmsCalls } from './gcp-kms-calls';
import { decodeGcpKmsCiphertext, encodeGcpKmsCiphertext } from './gcp-kms-ciphertext';
import { GcpKmsIntegrityError, toKeyProviderError } from './gcp-kms-errors';
import { GcpKmsImport } from './gcp-kms-import';
import { describeCryptoKey, isSymmetricEncryptionKey, versionState } from './gcp-kms-key-description';
import { GcpKmsKeyProviderConfig, ValidGcpKmsConfig, validateGcpKmsConfig } from './gcp-kms-key-provider.config';
import { GcpKmsKeyRef, parseGcpKmsKeyRef, parseVersionName } from './gcp-kms-key-ref';

/** Cloud KMS takes 1 byte to 64 KiB of plaintext, and at most 64 KiB of additional authenticated data. */
const MAX_BYTES = 65_536;
export const GCP_KMS_WRAP_ALGORITHM = 'GCP_KMS_GOOGLE_SYMMETRIC_ENCRYPTION';

/**
 * KeyProvider over Google Cloud KMS (`@google-cloud/kms`, gRPC) with symmetric ENCRYPT_DECRYPT keys: wrap is
 * Encrypt on the CryptoKey (its primary version) with the aad as additional authenticated data, unwrap is Decrypt
 * on the same CryptoKey (the version is inside the ciphertext, so rotation needs nothing more). Every Encrypt and
 * Decrypt carries CRC32C checksums of what it sends and verifies those of what comes back, as Google documents
 * for end-to-end integrity; a mismatch is a transport fault, retried, then reported as unavailable.
 * Describe, wrap and unwrap retry transient faults with full-jitter back-off up to `maxAttempts`; import jobs,
 * imports and new versions are sent once.
 */
export class GcpKmsKeyProvider implements KeyProvider {
  readonly kind = 'gcp-kms';
  private readonly config: ValidGcpKmsConfig;
  private readonly resolver: CredentialResolver;
  private readonly log: KeyProviderLogger;
  private calls?: GcpKmsCalls;
  private readonly inFlight = new InFlightCalls();

  /** Validates the configuration (throws InvalidProviderConfigError); the client is built on first use. */
  constructor(config: GcpKmsKeyProviderConfig) {
    this.config = validateGcpKmsConfig(config);
    this.resolver = config.credentialResolver ?? new DefaultCredentialResolver();
    this.log = config.logger ?? silentLogger;
  }

  describeKey(ref: KeyRef): Promise<KeyDescription> {
    return this.run('describeKey', ref, (key, calls) => this.describe(key, calls, 'describeKey'));
  }

  wrap(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<WrapResult> {
    return this.run('wrap', ref, async (key, calls) => {
      if (plaintext.length < 1 || plaintext.length > MAX_BYTES || (aad?.length ?? 0) > MAX_BYTES) {
        throw new UnsupportedOperationError(`Cloud KMS wraps 1 to ${MAX_BYTES} bytes with at most ${MAX_BYTES} bytes of aad; got ${plaintext.length}`, { keyRef: ref, operation: 'wrap' });
      }
      const sentAad = aad && aad.length > 0 ? aad : undefined;
      const response = await this.keyCall(key, calls, 'wrap', async (options) => {
        const [out] = await calls.client.encrypt(
          {
            name: key.name,
            plaintext,
            plaintextCrc32c: { value: crc32c(plaintext) },
            ...(sentAad ? { additionalAuthenticatedData: sentAad, additionalAuthenticatedDataCrc32c: { value: crc32c(sentAad) } } : {}),
          },
          options,
        );
        // Google's integrity protocol: the service confirms it checked what we sent, and its ciphertext arrives intact.
        if (!out.verifiedPlaintextCrc32c) throw new GcpKmsIntegrityError('verified_plaintext_crc32c');
        if (sentAad && !out.verifiedAdditionalAuthenticatedDataCrc32c) throw new GcpKmsIntegrityError('verified_additional_authenticated_data_crc32c');
        const ciphertext = out.ciphertext ? Buffer.from(out.ciphertext as Uint8Array) : Buffer.alloc(0);
        if (ciphertext.length === 0 || int64Value(out.ciphertextCrc32c) !== crc32c(ciphertext)) throw new GcpKmsIntegrityError('ciphertext_crc32c');
        // The service names the version it used: it must be one of this key's.
        if (parseVersionName(out.name)?.keyName !== key.name) throw new GcpKmsIntegrityError('name');
        return ciphertext;
      });
      return { ciphertext: encodeGcpKmsCiphertext(response), algorithm: GCP_KMS_WRAP_ALGORITHM };
    });
  }

  unwrap(ref: KeyRef, ciphertext: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.run('unwrap', ref, async (key, calls) => {
      const blob = decodeGcpKmsCiphertext(ciphertext);
      if (!blob) {
        // Key problems (unknown, disabled) come first, as from Cloud KMS itself; only then is the ciphertext blamed.
        const described = await this.describe(key, calls, 'unwrap');
        if (described.state !== 'enabled') throw new KeyDisabledError(`Cloud KMS key is ${described.state}: unwrap ${ref}`, { keyRef: ref, operation: 'unwrap' });
        throw new InvalidCiphertextError(`not a gcp-kms v1 ciphertext: unwrap ${ref}`, { keyRef: ref, operation: 'unwrap' });
      }
      const sentAad = aad && aad.length > 0 ? aad : undefined;
      return this.keyCall(key, calls, 'unwrap', async (options) => {
        const [out] = await calls.client.decrypt(
          {
            name: key.name,
            ciphertext: blob,
            ciphertextCrc32c: { value: crc32c(blob) },
            ...(sentAad ? { additionalAuthenticatedData: sentAad, additionalAuthenticatedDataCrc32c: { value: crc32c(sentAad) } } : {}),
          },
          options,
        );
        const plaintext = out.plaintext ? Buffer.from(out.plaintext as Uint8Array) : Buffer.alloc(0);
        if (int64Value(out.plaintextCrc32c) !== crc32c(plaintext)) {
          plaintext.fill(0);
          throw new GcpKmsIntegrityError('plaintext_crc32c');
        }
        return plaintext;
      });
    });
  }

  proofOfPossession(ref: KeyRef): Promise<ProofOfPossessionResult> {
    return proveByRoundTrip(this, ref);
  }

  getImportParameters(ref: KeyRef, request: ImportParametersRequest): Promise<ImportParameters> {
    return this.run('getImportParameters', ref, (key, calls) => new GcpKmsImport(calls, this.log).parameters(key, request));
  }

  importKeyMaterial(ref: KeyRef, material: KeyMaterialImport): Promise<KeyDescription> {
    return this.run('importKeyMaterial', ref, async (key, calls) => {
      await new GcpKmsImport(calls, this.log).importMaterial(key, material);
      return this.describe(key, calls, 'importKeyMaterial');
    });
  }

  /**
   * CreateCryptoKeyVersion (sent once: a repeat would add another version), waits until the version is generated
   * (HSM keys generate asynchronously), then makes it primary. Import-only keys rotate by importing new material
   * into a new key, which CMK models as a new key link, so they are refused here.
   */
  rotateKey(ref: KeyRef): Promise<KeyDescription> {
    return this.run('rotateKey', ref, async (key, calls) => {
      const target = await calls.cryptoKey(key.name, 'rotateKey');
      if (!isSymmetricEncryptionKey(target) || target.importOnly) {
        throw new UnsupportedOperationError(`Cloud KMS cannot rotate this key here (${target.importOnly ? 'import-only' : `purpose ${String(target.purpose)}`}): ${ref}`, {
          keyRef: ref,
          operation: 'rotateKey',
        });
      }
      const [created] = await calls.once('rotateKey', ref, (options) => calls.client.createCryptoKeyVersion({ parent: key.name, cryptoKeyVersion: {} }, options));
      const versionId = parseVersionName(created.name)?.versionId;
      if (!versionId) throw new ProviderUnavailableError(`Cloud KMS returned no new version: rotateKey ${ref}`, { keyRef: ref, operation: 'rotateKey' });
      const ready = await calls.waitFor('rotateKey', ref, () => calls.version(created.name!, 'rotateKey', ref), (v) => v.state !== 'PENDING_GENERATION');
      if (ready.state !== 'ENABLED') {
        throw new ProviderUnavailableError(`the new version is ${String(ready.state)}: rotateKey ${ref}`, { keyRef: ref, operation: 'rotateKey', providerCode: String(ready.state) });
      }
      const rotated = await calls.setPrimary(key.name, versionId, 'rotateKey');
      this.log.info({ provider: 'gcp-kms', operation: 'rotateKey', keyRef: ref, version: versionId }, 'new primary version');
      return describeCryptoKey(key.name, key.location, rotated);
    });
  }

  /**
   * ListKeyRings (one entry) in the configured project and location: reachable and the token accepted.
   * PERMISSION_DENIED still proves both (the caller was authenticated; it may just not list key rings).
   */
  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    if (this.inFlight.closed) return { healthy: false, latencyMs: 0, reason: 'Cloud KMS provider is closed' };
    return this.inFlight.track(async () => {
      try {
        const calls = this.client();
        const parent = `projects/${this.config.project}/locations/${this.config.location}`;
        await calls.once('health', undefined, (options) => calls.client.listKeyRings({ parent, pageSize: 1 }, { ...options, autoPaginate: false }));
        return { healthy: true, latencyMs: performance.now() - started };
      } catch (e) {
        const error = e instanceof KeyProviderError ? e : toKeyProviderError(e, { operation: 'health' });
        if (error.details.providerCode === 'PERMISSION_DENIED') return { healthy: true, latencyMs: performance.now() - started };
        return { healthy: false, latencyMs: performance.now() - started, reason: error.message };
      }
    });
  }

  close(): Promise<void> {
    return this.inFlight.close(async () => {
      await this.calls?.close();
      this.calls = undefined;
    });
  }

  private async describe(key: GcpKmsKeyRef, calls: GcpKmsCalls, operation: string): Promise<KeyDescription> {
    return describeCryptoKey(key.name, key.location, await calls.cryptoKey(key.name, operation));
  }

  /**
   * Encrypt / Decrypt with retries. FAILED_PRECONDITION covers a disabled or destroyed version and a key of the
   * wrong purpose alike; the key is described to tell them apart.
   */
  private async keyCall<T>(key: GcpKmsKeyRef, calls: GcpKmsCalls, operation: 'wrap' | 'unwrap', call: (options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await calls.safe(operation, key.name, call);
    } catch (e) {
      if (!(e instanceof KeyDisabledError) || e.details.providerCode !== 'FAILED_PRECONDITION') throw e;
      const target = await calls.cryptoKey(key.name, operation);
      if (!isSymmetricEncryptionKey(target)) {
        throw new UnsupportedOperationError(`Cloud KMS key has purpose ${String(target.purpose)}, not ENCRYPT_DECRYPT: ${operation} ${key.name}`, {
          keyRef: key.name,
          operation,
          providerCode: 'FAILED_PRECONDITION',
        });
      }
      const state = versionState(target.primary);
      if (state !== 'enabled') throw new KeyDisabledError(`Cloud KMS key is ${state}: ${operation} ${key.name}`, e.details);
      throw e;
    }
  }

  /** Closed check, reference validation before any network call, and in-flight accounting for close(). */
  private async run<T>(operation: string, ref: KeyRef, work: (key: GcpKmsKeyRef, calls: GcpKmsCalls) => Promise<T>): Promise<T> {
    if (this.inFlight.closed) throw new ProviderUnavailableError('Cloud KMS provider is closed', { keyRef: ref, operation });
    const key = parseGcpKmsKeyRef(ref);
    return this.inFlight.track(() => work(key, this.client()));
  }

  private client(): GcpKmsCalls {
    if (!this.calls) {
      this.calls = new GcpKmsCalls(this.config, this.resolver, this.log);
      this.log.info({ provider: 'gcp-kms', endpoint: this.config.apiEndpoint ?? 'default', port: this.config.port, insecure: this.config.insecure }, 'Cloud KMS client created');
    }
    return this.calls;
  }
}
