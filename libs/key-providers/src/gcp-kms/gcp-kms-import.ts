import { randomBytes } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  ImportRefusalRule,
  ImportRefusedError,
  KeyNotFoundError,
  KeyProviderError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';
import {
  IMPORT_WRAPPING_ALGORITHMS,
  IMPORT_WRAPPING_KEY_SPECS,
  ImportParameters,
  ImportParametersRequest,
  KeyMaterialImport,
} from '../key-provider.port';
import { importJobId, importMethodFor, timestampToDate, wrappingAlgorithmOf } from './gcp-kms-byok';
import { CryptoKey, GcpKmsCalls } from './gcp-kms-calls';
import { gcpErrorCode, grpcCode, toKeyProviderError } from './gcp-kms-errors';
import { GcpKmsKeyRef, importJobKeyRing, parseVersionName } from './gcp-kms-key-ref';

const SYMMETRIC = 'GOOGLE_SYMMETRIC_ENCRYPTION';

/**
 * BYOK into Cloud KMS: an import job per getImportParameters (its name is the import token), then
 * ImportCryptoKeyVersion into the target CryptoKey and making the imported version primary. A target is a
 * symmetric ENCRYPT_DECRYPT key without a primary version (typically created with `importOnly` and
 * `skipInitialVersionCreation`); a key that already holds material is refused rather than silently rotated.
 */
export class GcpKmsImport {
  constructor(
    private readonly calls: GcpKmsCalls,
    private readonly log: KeyProviderLogger,
  ) {}

  /** CreateImportJob (never retried: each call creates a job), then waits until the job's wrapping key exists. */
  async parameters(key: GcpKmsKeyRef, request: ImportParametersRequest): Promise<ImportParameters> {
    const operation = 'getImportParameters';
    const details = { keyRef: key.name, operation };
    const method =
      IMPORT_WRAPPING_ALGORITHMS.includes(request.wrappingAlgorithm) && IMPORT_WRAPPING_KEY_SPECS.includes(request.wrappingKeySpec)
        ? importMethodFor(request.wrappingAlgorithm, request.wrappingKeySpec)
        : undefined;
    if (!method) throw new UnsupportedOperationError('unknown wrapping algorithm or wrapping key spec', details);
    const target = await this.calls.cryptoKey(key.name, operation);
    const unfit = targetProblem(target);
    if (unfit) throw new UnsupportedOperationError(`the key cannot take imported AES-256 material: ${unfit}: ${key.name}`, details);
    const protectionLevel = String(target.versionTemplate?.protectionLevel ?? 'SOFTWARE');
    const [created] = await this.calls.once(operation, key.name, (options) =>
      this.calls.client.createImportJob(
        {
          parent: key.keyRingName,
          importJobId: importJobId(key.cryptoKey, randomBytes(6).toString('hex')),
          // An import job must have the protection level of the versions it creates.
          importJob: { importMethod: method as never, protectionLevel: protectionLevel as never },
        },
        options,
      ),
    );
    if (!created.name) throw new UnsupportedOperationError(`Cloud KMS returned an import job without a name: ${key.name}`, details);
    const job = await this.calls.waitFor(operation, key.name, () => this.calls.importJob(created.name!, operation, key.name), (j) => j.state !== 'PENDING_GENERATION');
    const expiresAt = timestampToDate(job.expireTime);
    if (job.state !== 'ACTIVE' || !job.publicKey?.pem || !expiresAt) {
      throw new UnsupportedOperationError(`the import job is ${String(job.state)} without a usable wrapping key: ${key.name}`, { ...details, providerCode: String(job.state) });
    }
    this.log.info({ provider: 'gcp-kms', operation, keyRef: key.name, importJob: job.name, protectionLevel }, 'import job created');
    return { importToken: job.name!, wrappingAlgorithm: request.wrappingAlgorithm, wrappingKeySpec: request.wrappingKeySpec, publicKeyPem: job.publicKey.pem, expiresAt };
  }

  /**
   * Checks what can be checked before sending (token, job state and method, target state), sends the import once,
   * waits for Cloud KMS to unwrap it, and makes the new version primary.
   */
  async importMaterial(key: GcpKmsKeyRef, material: KeyMaterialImport): Promise<void> {
    const operation = 'importKeyMaterial';
    const details = { keyRef: key.name, operation };
    const refuse = (rule: ImportRefusalRule, why: string, providerCode?: string) =>
      new ImportRefusedError(rule, `${why}: ${key.name}`, providerCode ? { ...details, providerCode } : details);
    const token = typeof material.importToken === 'string' ? material.importToken : '';
    if (importJobKeyRing(token) !== key.keyRingName) throw refuse('mismatch', 'the import token is not an import job of this key ring');
    if (!IMPORT_WRAPPING_ALGORITHMS.includes(material.wrappingAlgorithm)) throw refuse('mismatch', 'unknown wrapping algorithm');
    if (!material.wrappedKeyMaterial?.length) throw refuse('corrupted', 'no wrapped key material');

    const job = await this.calls.importJob(token, operation, key.name).catch((e: unknown) => {
      throw e instanceof KeyNotFoundError ? refuse('mismatch', 'the import job does not exist', 'NOT_FOUND') : e;
    });
    const expiresAt = timestampToDate(job.expireTime);
    if (job.state === 'EXPIRED' || (expiresAt && expiresAt.getTime() <= Date.now())) throw refuse('expired', 'the import job has expired', String(job.state));
    if (job.state !== 'ACTIVE') throw refuse('mismatch', 'the import job is not active', String(job.state));
    if (wrappingAlgorithmOf(job.importMethod) !== material.wrappingAlgorithm) throw refuse('mismatch', 'the material was declared wrapped with another algorithm than the import job uses');

    const target = await this.calls.cryptoKey(key.name, operation);
    const unfit = targetProblem(target);
    if (unfit) throw refuse('state', `the key does not accept key material now (${unfit})`);
    if (String(target.versionTemplate?.protectionLevel ?? 'SOFTWARE') !== String(job.protectionLevel)) {
      throw refuse('mismatch', 'the import job and the key have different protection levels');
    }

    let imported;
    try {
      [imported] = await this.calls.client.importCryptoKeyVersion(
        { parent: key.name, algorithm: SYMMETRIC, importJob: token, wrappedKey: material.wrappedKeyMaterial },
        await this.calls.callOptions(),
      );
    } catch (e) {
      this.log.warn({ provider: 'gcp-kms', operation, keyRef: key.name, providerCode: gcpErrorCode(e) }, 'Cloud KMS refused the key material import');
      throw toImportError(e, key.name);
    }
    const versionId = parseVersionName(imported.name)?.versionId;
    if (!versionId) throw refuse('state', 'Cloud KMS returned no version for the import');
    const done = await this.calls.waitFor(operation, key.name, () => this.calls.version(imported.name!, operation, key.name), (v) => v.state !== 'PENDING_IMPORT');
    if (done.state === 'IMPORT_FAILED') {
      this.log.warn({ provider: 'gcp-kms', operation, keyRef: key.name, providerCode: 'IMPORT_FAILED' }, 'Cloud KMS could not import the key material');
      // The reason is free text; it is only read to tell a wrong length from a blob that did not unwrap.
      const rule = /\b(length|size|bytes|bits)\b/i.test(done.importFailureReason ?? '') ? 'key-size' : 'corrupted';
      throw refuse(rule, rule === 'key-size' ? 'the unwrapped key material is not a 256-bit key' : 'the wrapped key material does not unwrap under the import job key', 'IMPORT_FAILED');
    }
    if (done.state !== 'ENABLED') throw refuse('state', `the imported version is ${String(done.state)}`, String(done.state));
    await this.calls.setPrimary(key.name, versionId, operation);
    this.log.info({ provider: 'gcp-kms', operation, keyRef: key.name, version: versionId }, 'key material imported');
  }
}

/** Why a key cannot be an import target for AES-256 material, or undefined when it can. */
function targetProblem(key: CryptoKey): string | undefined {
  if (key.purpose !== 'ENCRYPT_DECRYPT') return `purpose ${String(key.purpose)}`;
  if (String(key.versionTemplate?.algorithm ?? SYMMETRIC) !== SYMMETRIC) return `algorithm ${String(key.versionTemplate?.algorithm)}`;
  if (key.primary?.name) return 'it already holds key material (import into a new key)';
  if (!['SOFTWARE', 'HSM'].includes(String(key.versionTemplate?.protectionLevel ?? 'SOFTWARE'))) return `protection level ${String(key.versionTemplate?.protectionLevel)}`;
  return undefined;
}

/** Synchronous refusals of ImportCryptoKeyVersion, by gRPC status; the service's text is only classified. */
function toImportError(e: unknown, keyRef: string): KeyProviderError {
  const code = grpcCode(e);
  const providerCode = gcpErrorCode(e);
  const details = { keyRef, operation: 'importKeyMaterial', providerCode };
  const text = String((e as { details?: unknown }).details ?? '');
  switch (code) {
    case GrpcStatus.FAILED_PRECONDITION:
      return /expire/i.test(text)
        ? new ImportRefusedError('expired', `the import job has expired: ${keyRef} (${providerCode})`, details)
        : new ImportRefusedError('state', `the key or import job does not accept key material now: ${keyRef} (${providerCode})`, details);
    case GrpcStatus.INVALID_ARGUMENT:
      return new ImportRefusedError('corrupted', `Cloud KMS refused the wrapped key material as malformed: ${keyRef} (${providerCode})`, details);
    case GrpcStatus.NOT_FOUND:
      return new ImportRefusedError('mismatch', `the import job or key is unknown to Cloud KMS: ${keyRef} (${providerCode})`, details);
  }
  return toKeyProviderError(e, { operation: 'importKeyMaterial', keyRef });
}
