import { CredentialRef, CredentialResolver, parseCredentialRef } from '../credentials/credential-source';
import { InvalidProviderConfigError } from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';

/** Static credentials, as references only (`env:NAME` or `file:/path`); resolved when the SDK asks for them. */
export interface AwsKmsCredentialRefs {
  accessKeyId: CredentialRef;
  secretAccessKey: CredentialRef;
  /** For temporary credentials (STS). */
  sessionToken?: CredentialRef;
}

export interface AwsKmsKeyProviderConfig {
  /**
   * Region for calls that name no key (health). Key calls go to the region in the key's ARN
   * (CMK_AWS_KMS_REGION).
   */
  region: string;
  /**
   * Endpoint override (CMK_AWS_KMS_ENDPOINT): an emulator (`http://127.0.0.1:4599`) or a VPC endpoint. Every
   * region is then served by this one endpoint.
   */
  endpoint?: string;
  /**
   * Credential references. Omitted: the SDK's default chain (web identity / IRSA, ECS or EC2 instance role,
   * AWS_* variables), where no secret is configured at all.
   */
  credentials?: AwsKmsCredentialRefs;
  /** How long resolved credentials are used before the references are read again (default 300 000 ms). */
  credentialRefreshMs?: number;
  /** Attempts for describe, wrap and unwrap on transient failures, first try included (default 3). Imports never retry. */
  maxAttempts?: number;
  /** Back-off before the second attempt; doubles per attempt, full jitter (default 100 ms). */
  retryBaseDelayMs?: number;
  /** Ceiling of one back-off (default 2 000 ms). */
  retryMaxDelayMs?: number;
  /** TCP connect timeout (default 3 000 ms). */
  connectTimeoutMs?: number;
  /** Timeout of one request once connected (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Connections per region kept open; callers beyond that queue in the HTTP agent (default 50). */
  maxSockets?: number;
  /** Where credential references are resolved; defaults to the environment and files. */
  credentialResolver?: CredentialResolver;
  logger?: KeyProviderLogger;
}

export type ValidAwsKmsConfig = Required<Omit<AwsKmsKeyProviderConfig, 'endpoint' | 'credentials' | 'credentialResolver' | 'logger'>> &
  Pick<AwsKmsKeyProviderConfig, 'endpoint' | 'credentials' | 'credentialResolver' | 'logger'>;

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

function positive(value: number | undefined, fallback: number, setting: string, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0 || v > max) throw new InvalidProviderConfigError(setting, `must be a positive number up to ${max}`);
  return v;
}

/** Checks every setting at start-up; a bad one throws {@link InvalidProviderConfigError} naming it, never its value. */
export function validateAwsKmsConfig(config: AwsKmsKeyProviderConfig): ValidAwsKmsConfig {
  if (!config.region || !REGION.test(config.region)) {
    throw new InvalidProviderConfigError('CMK_AWS_KMS_REGION', 'must be an AWS region name such as eu-central-1');
  }
  if (config.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(config.endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
      throw new InvalidProviderConfigError('CMK_AWS_KMS_ENDPOINT', 'must be an http(s) URL without credentials, query or fragment');
    }
  }
  if (config.credentials !== undefined) {
    parseCredentialRef(config.credentials.accessKeyId ?? '', 'CMK_AWS_KMS_ACCESS_KEY_ID_REF');
    parseCredentialRef(config.credentials.secretAccessKey ?? '', 'CMK_AWS_KMS_SECRET_ACCESS_KEY_REF');
    if (config.credentials.sessionToken !== undefined) parseCredentialRef(config.credentials.sessionToken, 'CMK_AWS_KMS_SESSION_TOKEN_REF');
  }
  const maxAttempts = config.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) {
    throw new InvalidProviderConfigError('CMK_AWS_KMS_MAX_ATTEMPTS', 'must be an integer from 1 to 10');
  }
  const maxSockets = config.maxSockets ?? 50;
  if (!Number.isInteger(maxSockets) || maxSockets < 1 || maxSockets > 1024) {
    throw new InvalidProviderConfigError('CMK_AWS_KMS_MAX_SOCKETS', 'must be an integer from 1 to 1024');
  }
  const retryBaseDelayMs = positive(config.retryBaseDelayMs, 100, 'CMK_AWS_KMS_RETRY_BASE_DELAY_MS', 60_000);
  const retryMaxDelayMs = positive(config.retryMaxDelayMs, 2_000, 'CMK_AWS_KMS_RETRY_MAX_DELAY_MS', 60_000);
  if (retryMaxDelayMs < retryBaseDelayMs) {
    throw new InvalidProviderConfigError('CMK_AWS_KMS_RETRY_MAX_DELAY_MS', 'must not be below CMK_AWS_KMS_RETRY_BASE_DELAY_MS');
  }
  return {
    ...config,
    maxAttempts,
    maxSockets,
    retryBaseDelayMs,
    retryMaxDelayMs,
    credentialRefreshMs: positive(config.credentialRefreshMs, 300_000, 'CMK_AWS_KMS_CREDENTIAL_REFRESH_MS', 86_400_000),
    connectTimeoutMs: positive(config.connectTimeoutMs, 3_000, 'CMK_AWS_KMS_CONNECT_TIMEOUT_MS', 600_000),
    requestTimeoutMs: positive(config.requestTimeoutMs, 10_000, 'CMK_AWS_KMS_REQUEST_TIMEOUT_MS', 600_000),
  };
}

/**
 * Reads the settings from the environment: CMK_AWS_KMS_REGION, CMK_AWS_KMS_ENDPOINT, CMK_AWS_KMS_ACCESS_KEY_ID_REF
 * and CMK_AWS_KMS_SECRET_ACCESS_KEY_REF (both or neither; neither means the SDK's default chain),
 * CMK_AWS_KMS_SESSION_TOKEN_REF, CMK_AWS_KMS_MAX_ATTEMPTS, CMK_AWS_KMS_RETRY_BASE_DELAY_MS,
 * CMK_AWS_KMS_RETRY_MAX_DELAY_MS, CMK_AWS_KMS_CONNECT_TIMEOUT_MS, CMK_AWS_KMS_REQUEST_TIMEOUT_MS,
 * CMK_AWS_KMS_MAX_SOCKETS, CMK_AWS_KMS_CREDENTIAL_REFRESH_MS.
 */
export function awsKmsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ValidAwsKmsConfig {
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  const accessKeyId = env.CMK_AWS_KMS_ACCESS_KEY_ID_REF || undefined;
  const secretAccessKey = env.CMK_AWS_KMS_SECRET_ACCESS_KEY_REF || undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new InvalidProviderConfigError(
      accessKeyId ? 'CMK_AWS_KMS_SECRET_ACCESS_KEY_REF' : 'CMK_AWS_KMS_ACCESS_KEY_ID_REF',
      'set both credential references, or neither to use the default AWS credential chain',
    );
  }
  return validateAwsKmsConfig({
    region: env.CMK_AWS_KMS_REGION ?? '',
    endpoint: env.CMK_AWS_KMS_ENDPOINT || undefined,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.CMK_AWS_KMS_SESSION_TOKEN_REF || undefined }
        : undefined,
    maxAttempts: num('CMK_AWS_KMS_MAX_ATTEMPTS'),
    retryBaseDelayMs: num('CMK_AWS_KMS_RETRY_BASE_DELAY_MS'),
    retryMaxDelayMs: num('CMK_AWS_KMS_RETRY_MAX_DELAY_MS'),
    connectTimeoutMs: num('CMK_AWS_KMS_CONNECT_TIMEOUT_MS'),
    requestTimeoutMs: num('CMK_AWS_KMS_REQUEST_TIMEOUT_MS'),
    maxSockets: num('CMK_AWS_KMS_MAX_SOCKETS'),
    credentialRefreshMs: num('CMK_AWS_KMS_CREDENTIAL_REFRESH_MS'),
  });
}
