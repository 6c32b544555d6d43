import { credentials as grpcCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import { KeyManagementServiceClient, protos } from '@google-cloud/kms';
import { CredentialResolver } from '../credentials/credential-source';
import { ProviderUnavailableError } from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';
import { AccessTokenSource, accessTokenSource } from './gcp-kms-credentials';
import { gcpErrorCode, grpcCode, isTransientGcpError, toKeyProviderError } from './gcp-kms-errors';
import type { ValidGcpKmsConfig } from './gcp-kms-key-provider.config';
import { withRetries } from '../retry';

export type CryptoKey = protos.google.cloud.kms.v1.ICryptoKey;
export type CryptoKeyVersion = protos.google.cloud.kms.v1.ICryptoKeyVersion;
export type ImportJob = protos.google.cloud.kms.v1.IImportJob;
// google-gax is @google-cloud/kms's own dependency; only its CallOptions type is used here.
export type { CallOptions } from 'google-gax';
import type { CallOptions } from 'google-gax';

const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 1_000;

/**
 * The one Cloud KMS client and the call discipline every adapter operation goes through: a bearer token from the
 * configured references on each call (or Application Default Credentials through the library), the library's
 * own retries off (ours are bounded, jittered and never used for imports), a deadline per call, and every
 * failure mapped to a typed error.
 */
export class GcpKmsCalls {
  readonly client: KeyManagementServiceClient;
  private readonly tokens?: AccessTokenSource;

  constructor(
    private readonly config: ValidGcpKmsConfig,
    resolver: CredentialResolver,
    private readonly log: KeyProviderLogger,
  ) {
    this.tokens = config.credentials ? accessTokenSource(config.credentials, resolver, config.credentialRefreshMs) : undefined;
    this.client = new KeyManagementServiceClient({
      ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
      port: config.port,
      // With explicit references the token travels as call metadata (below); the channel is TLS or, for a
      // loopback stand-in only, plain text. The fixed universe keeps the library from probing for ADC.
      ...(this.tokens
        ? { sslCreds: config.insecure ? grpcCredentials.createInsecure() : grpcCredentials.createSsl(), universeDomain: 'googleapis.com' }
        : {}),
    });
  }

  /** A call safe to repeat: retried on transient faults with back-off, then mapped to a typed error. */
  async safe<T>(operation: string, keyRef: string | undefined, call: (options: CallOptions) => Promise<T>): Promise<T> {
    const policy = { maxAttempts: this.config.maxAttempts, baseDelayMs: this.config.retryBaseDelayMs, maxDelayMs: this.config.retryMaxDelayMs };
    try {
      return await withRetries(
        policy,
        async () => call(await this.callOptions()),
        isTransientGcpError,
        ({ attempt, delayMs, error }) =>
          this.log.warn({ provider: 'gcp-kms', operation, keyRef, providerCode: gcpErrorCode(error), attempt, delayMs }, 'transient Cloud KMS failure: retrying after back-off'),
      );
    } catch (e) {
      throw this.failed(e, operation, keyRef);
    }
  }

  /** A call that must not be repeated (creating an import job, importing, creating a version): sent once. */
  async once<T>(operation: string, keyRef: string | undefined, call: (options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await call(await this.callOptions());
    } catch (e) {
      throw this.failed(e, operation, keyRef);
    }
  }

  async cryptoKey(name: string, operation: string): Promise<CryptoKey> {
    const [key] = await this.safe(operation, name, (options) => this.client.getCryptoKey({ name }, options));
    return key;
  }

  async version(name: string, operation: string, keyRef: string): Promise<CryptoKeyVersion> {
    const [version] = await this.safe(operation, keyRef, (options) => this.client.getCryptoKeyVersion({ name }, options));
    return version;
  }

  async importJob(name: string, operation: string, keyRef: string): Promise<ImportJob> {
    const [job] = await this.safe(operation, keyRef, (options) => this.client.getImportJob({ name }, options));
    return job;
  }

  async setPrimary(keyName: string, versionId: string, operation: string): Promise<CryptoKey> {
    // Setting the same primary again is harmless, so this one is retried.
    const [key] = await this.safe(operation, keyName, (options) =>
      this.client.updateCryptoKeyPrimaryVersion({ name: keyName, cryptoKeyVersionId: versionId }, options),
    );
    return key;
  }

  /**
   * Polls `read` until `done` holds, with doubling delays, for at most `operationTimeoutMs`: HSM import jobs and
   * versions are generated, and imports are unwrapped, asynchronously by Cloud KMS.
   */
  async waitFor<T>(operation: string, keyRef: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + this.config.operationTimeoutMs;
    for (let delay = POLL_FIRST_MS; ; delay = Math.min(POLL_MAX_MS, delay * 2)) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() + delay > deadline) {
        throw new ProviderUnavailableError(`Cloud KMS did not finish within ${this.config.operationTimeoutMs} ms: ${operation} ${keyRef}`, {
          keyRef,
          operation,
          providerCode: 'OPERATION_TIMEOUT',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Deadline, no library retries, and the bearer token when references are configured. */
  async callOptions(): Promise<CallOptions> {
    const options: CallOptions = { timeout: this.config.requestTimeoutMs, retry: { retryCodes: [] } };
    if (this.tokens) options.otherArgs = { headers: { authorization: `Bearer ${await this.tokens.token()}` } };
    return options;
  }

  private failed(e: unknown, operation: string, keyRef: string | undefined) {
    // An expired or revoked token: the next call reads the reference again instead of reusing it.
    if (grpcCode(e) === GrpcStatus.UNAUTHENTICATED) this.tokens?.invalidate();
    const error = toKeyProviderError(e, { operation, keyRef });
    if (error instanceof ProviderUnavailableError) {
      this.log.warn({ provider: 'gcp-kms', operation, keyRef, providerCode: error.details.providerCode }, 'Cloud KMS unavailable: giving up');
    }
    return error;
  }
}
