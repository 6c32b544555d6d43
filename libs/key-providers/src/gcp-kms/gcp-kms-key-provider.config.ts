import { CredentialRef, CredentialResolver, parseCredentialRef } from '../credentials/credential-source';
import { InvalidProviderConfigError } from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';

/**
 * Credentials as references only (`env:NAME` or `file:/path`), read when a token is needed:
 * - `serviceAccountKey`: a service-account JSON key; the adapter signs a self-signed JWT with it (Google's
 *   "service account authorization without OAuth", audience `https://cloudkms.googleapis.com/`), so no token
 *   endpoint is involved and the private key never leaves this process;
 * - `accessToken`: an OAuth 2.0 access token minted elsewhere (workload identity federation, a refresher sidecar
 *   writing a file), re-read every `credentialRefreshMs`.
 */
export type GcpKmsCredentialRefs = { serviceAccountKey: CredentialRef } | { accessToken: CredentialRef };

export interface GcpKmsKeyProviderConfig {
  /** Project and location that health() lists key rings in (CMK_GCP_KMS_PROJECT, CMK_GCP_KMS_LOCATION). */
  project: string;
  location: string;
  /** Endpoint override (CMK_GCP_KMS_API_ENDPOINT): a host name, e.g. a regional or Private Service Connect endpoint. */
  apiEndpoint?: string;
  /** Port of the endpoint (CMK_GCP_KMS_PORT, default 443). */
  port?: number;
  /**
   * Plain-text gRPC (CMK_GCP_KMS_INSECURE): only for a local stand-in on a loopback address, because the bearer
   * token travels with every call.
   */
  insecure?: boolean;
  /** Omitted: Application Default Credentials through the client library (workload identity, metadata server). */
  credentials?: GcpKmsCredentialRefs;
  /** How long a minted or read token is used before the reference is read again (default 300 000 ms). */
  credentialRefreshMs?: number;
  /** Attempts for describe, wrap and unwrap on transient failures, first try included (default 3). Imports never retry. */
  maxAttempts?: number;
  /** Back-off before the second attempt; doubles per attempt, full jitter (default 100 ms). */
  retryBaseDelayMs?: number;
  /** Ceiling of one back-off (default 2 000 ms). */
  retryMaxDelayMs?: number;
  /** Deadline of one call (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** How long to wait for an import job, an imported or a generated version to become usable (default 60 000 ms). */
  operationTimeoutMs?: number;
  credentialResolver?: CredentialResolver;
  logger?: KeyProviderLogger;
}

type Optional = 'apiEndpoint' | 'credentials' | 'credentialResolver' | 'logger';
export type ValidGcpKmsConfig = Required<Omit<GcpKmsKeyProviderConfig, Optional>> & Pick<GcpKmsKeyProviderConfig, Optional>;

const PROJECT = /^(?:(?:[a-z][a-z0-9.-]{0,62}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20})$/;
const LOCATION = /^[a-z][a-z0-9-]{0,62}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])$/;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

function bounded(value: number | undefined, fallback: number, setting: string, max: number, integer = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0 || v > max || (integer && !Number.isInteger(v))) {
    throw new InvalidProviderConfigError(setting, `must be a positive ${integer ? 'integer' : 'number'} up to ${max}`);
  }
  return v;
}

/** Checks every setting at start-up; a bad one throws {@link InvalidProviderConfigError} naming it, never its value. */
export function validateGcpKmsConfig(config: GcpKmsKeyProviderConfig): ValidGcpKmsConfig {
  if (!config.project || !PROJECT.test(config.project)) throw new InvalidProviderConfigError('CMK_GCP_KMS_PROJECT', 'must be a Google Cloud project id or number');
  if (!config.location || !LOCATION.test(config.location)) throw new InvalidProviderConfigError('CMK_GCP_KMS_LOCATION', 'must be a Cloud KMS location such as europe-west3 or global');
  if (config.apiEndpoint !== undefined && !HOST.test(config.apiEndpoint)) {
    throw new InvalidProviderConfigError('CMK_GCP_KMS_API_ENDPOINT', 'must be a host name or IP address, without scheme, port or path');
  }
  const port = bounded(config.port, 443, 'CMK_GCP_KMS_PORT', 65_535, true);
  const insecure = config.insecure ?? false;
  if (insecure && !(config.apiEndpoint && LOOPBACK.test(config.apiEndpoint))) {
    throw new InvalidProviderConfigError('CMK_GCP_KMS_INSECURE', 'plain-text gRPC is only allowed to a loopback CMK_GCP_KMS_API_ENDPOINT');
  }
  if (config.credentials !== undefined) {
    const refs = config.credentials as Partial<{ serviceAccountKey: string; accessToken: string }>;
    if ((refs.serviceAccountKey === undefined) === (refs.accessToken === undefined)) {
      throw new InvalidProviderConfigError('CMK_GCP_KMS_CREDENTIALS', 'set exactly one of a service-account key reference or an access-token reference');
    }
    if (refs.serviceAccountKey !== undefined) parseCredentialRef(refs.serviceAccountKey, 'CMK_GCP_KMS_SERVICE_ACCOUNT_KEY_REF');
    if (refs.accessToken !== undefined) parseCredentialRef(refs.accessToken, 'CMK_GCP_KMS_ACCESS_TOKEN_REF');
  } else if (insecure) {
    // Application Default Credentials only travel over TLS; a plain-text stand-in needs explicit references.
    throw new InvalidProviderConfigError('CMK_GCP_KMS_CREDENTIALS', 'a plain-text endpoint needs a service-account key or access-token reference');
  }
  const maxAttempts = bounded(config.maxAttempts, 3, 'CMK_GCP_KMS_MAX_ATTEMPTS', 10, true);
  const retryBaseDelayMs = bounded(config.retryBaseDelayMs, 100, 'CMK_GCP_KMS_RETRY_BASE_DELAY_MS', 60_000);
  const retryMaxDelayMs = bounded(config.retryMaxDelayMs, 2_000, 'CMK_GCP_KMS_RETRY_MAX_DELAY_MS', 60_000);
  if (retryMaxDelayMs < retryBaseDelayMs) {
    throw new InvalidProviderConfigError('CMK_GCP_KMS_RETRY_MAX_DELAY_MS', 'must not be below CMK_GCP_KMS_RETRY_BASE_DELAY_MS');
  }
  return {
    ...config,
    port,
    insecure,
    maxAttempts,
    retryBaseDelayMs,
    retryMaxDelayMs,
    credentialRefreshMs: bounded(config.credentialRefreshMs, 300_000, 'CMK_GCP_KMS_CREDENTIAL_REFRESH_MS', 3_000_000),
    requestTimeoutMs: bounded(config.requestTimeoutMs, 10_000, 'CMK_GCP_KMS_REQUEST_TIMEOUT_MS', 600_000),
    operationTimeoutMs: bounded(config.operationTimeoutMs, 60_000, 'CMK_GCP_KMS_OPERATION_TIMEOUT_MS', 3_600_000),
  };
}

/**
 * Reads the settings from the environment: CMK_GCP_KMS_PROJECT, CMK_GCP_KMS_LOCATION, CMK_GCP_KMS_API_ENDPOINT,
 * CMK_GCP_KMS_PORT, CMK_GCP_KMS_INSECURE (`true`), CMK_GCP_KMS_SERVICE_ACCOUNT_KEY_REF or
 * CMK_GCP_KMS_ACCESS_TOKEN_REF (neither: Application Default Credentials), CMK_GCP_KMS_CREDENTIAL_REFRESH_MS,
 * CMK_GCP_KMS_MAX_ATTEMPTS, CMK_GCP_KMS_RETRY_BASE_DELAY_MS, CMK_GCP_KMS_RETRY_MAX_DELAY_MS,
 * CMK_GCP_KMS_REQUEST_TIMEOUT_MS, CMK_GCP_KMS_OPERATION_TIMEOUT_MS.
 */
export function gcpKmsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ValidGcpKmsConfig {
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  const insecure = env.CMK_GCP_KMS_INSECURE;
  if (insecure !== undefined && insecure !== '' && insecure !== 'true' && insecure !== 'false') {
    throw new InvalidProviderConfigError('CMK_GCP_KMS_INSECURE', 'must be true or false');
  }
  const serviceAccountKey = env.CMK_GCP_KMS_SERVICE_ACCOUNT_KEY_REF || undefined;
  const accessToken = env.CMK_GCP_KMS_ACCESS_TOKEN_REF || undefined;
  return validateGcpKmsConfig({
    project: env.CMK_GCP_KMS_PROJECT ?? '',
    location: env.CMK_GCP_KMS_LOCATION ?? '',
    apiEndpoint: env.CMK_GCP_KMS_API_ENDPOINT || undefined,
    port: num('CMK_GCP_KMS_PORT'),
    insecure: insecure === 'true',
    credentials:
      serviceAccountKey || accessToken ? ({ serviceAccountKey, accessToken } as GcpKmsCredentialRefs) : undefined,
    credentialRefreshMs: num('CMK_GCP_KMS_CREDENTIAL_REFRESH_MS'),
    maxAttempts: num('CMK_GCP_KMS_MAX_ATTEMPTS'),
    retryBaseDelayMs: num('CMK_GCP_KMS_RETRY_BASE_DELAY_MS'),
    retryMaxDelayMs: num('CMK_GCP_KMS_RETRY_MAX_DELAY_MS'),
    requestTimeoutMs: num('CMK_GCP_KMS_REQUEST_TIMEOUT_MS'),
    operationTimeoutMs: num('CMK_GCP_KMS_OPERATION_TIMEOUT_MS'),
  });
}
