import { X509Certificate } from 'node:crypto';
import { CredentialRef, CredentialResolver, parseCredentialRef } from '../credentials/credential-source';
import { InvalidProviderConfigError } from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';
import { normaliseVaultUrl } from './azure-keyvault-key-ref';

export const ENTRA_TOKEN_ENDPOINT = 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token';

export interface AzureKeyVaultKeyProviderConfig {
  /** Vaults / Managed HSMs this provider may call (CMK_AZURE_KEYVAULT_URLS, comma-separated). References to others are refused. */
  vaultUrls: string[];
  /** Client-credentials identity, all three as credential references (`env:NAME` / `file:/path`), resolved per token request. */
  tenantId: CredentialRef;
  clientId: CredentialRef;
  clientSecret: CredentialRef;
  /** Token endpoint; `{tenant}` is replaced by the resolved tenant id. Default Entra ID's v2.0 endpoint. */
  tokenEndpoint?: string;
  /** An extra trust anchor (PEM) for the vault and token endpoint, on top of Node's built-in CAs (private endpoints, test doubles). */
  caPem?: string;
  /** Key Vault REST api-version (default 7.5). */
  serviceVersion?: string;
  /** Skips the SDK's check that the bearer challenge's resource matches the vault host; only for hosts that are not *.vault.azure.net. */
  disableChallengeResourceVerification?: boolean;
  /** Attempts for safe calls (describe, wrap, unwrap) on throttling, 5xx, timeouts and refused connections (default 4; 1 = no retry). */
  maxAttempts?: number;
  /** First back-off delay; doubles per attempt with jitter, capped by maxDelayMs (defaults 100 / 4000 ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails with ProviderUnavailable at once (default 30 000 ms). */
  maxRetryAfterMs?: number;
  /** Per-attempt timeout of a vault or token request (default 10 000 ms). */
  timeoutMs?: number;
  /**
   * How long key metadata (current version, enabled, validity) is reused for wrap (default 5 000 ms). Key Vault
   * itself still encrypts under a disabled key, so this bounds how long a wrap may follow a disable at the vault.
   */
  keyCacheTtlMs?: number;
  /** Lifetime of a BYOK key exchange key, i.e. of the import parameters (default 24 h). */
  importParametersTtlMs?: number;
  credentials?: CredentialResolver;
  logger?: KeyProviderLogger;
}

export type ValidAzureKeyVaultConfig = Required<
  Omit<AzureKeyVaultKeyProviderConfig, 'credentials' | 'logger' | 'caPem' | 'disableChallengeResourceVerification'>
> &
  Pick<AzureKeyVaultKeyProviderConfig, 'credentials' | 'logger' | 'caPem'> & { disableChallengeResourceVerification: boolean };

function positive(setting: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new InvalidProviderConfigError(setting, `must be a number from 0 to ${max}`);
  return v;
}

/** Checks every setting at start-up; a bad one throws {@link InvalidProviderConfigError} naming it, never echoing a secret. */
export function validateAzureKeyVaultConfig(config: AzureKeyVaultKeyProviderConfig): ValidAzureKeyVaultConfig {
  if (!Array.isArray(config.vaultUrls) || config.vaultUrls.length === 0) {
    throw new InvalidProviderConfigError('CMK_AZURE_KEYVAULT_URLS', 'must list at least one vault URL (https://<name>.vault.azure.net)');
  }
  const vaultUrls = config.vaultUrls.map((u) => {
    const normalised = normaliseVaultUrl(u);
    if (!normalised) throw new InvalidProviderConfigError('CMK_AZURE_KEYVAULT_URLS', 'each entry must be an https URL with no path, query or user info');
    return normalised;
  });
  parseCredentialRef(config.tenantId ?? '', 'CMK_AZURE_TENANT_ID_REF');
  parseCredentialRef(config.clientId ?? '', 'CMK_AZURE_CLIENT_ID_REF');
  parseCredentialRef(config.clientSecret ?? '', 'CMK_AZURE_CLIENT_SECRET_REF');
  const tokenEndpoint = config.tokenEndpoint ?? ENTRA_TOKEN_ENDPOINT;
  let endpoint: URL;
  try {
    endpoint = new URL(tokenEndpoint.replace('{tenant}', 'tenant'));
  } catch {
    throw new InvalidProviderConfigError('CMK_AZURE_TOKEN_ENDPOINT', 'must be an https URL');
  }
  if (endpoint.protocol !== 'https:' || endpoint.username || endpoint.password) {
    throw new InvalidProviderConfigError('CMK_AZURE_TOKEN_ENDPOINT', 'must be an https URL without user info');
  }
  if (config.caPem !== undefined) {
    try {
      new X509Certificate(config.caPem);
    } catch {
      throw new InvalidProviderConfigError('CMK_AZURE_CA_PEM', 'must be a PEM certificate');
    }
  }
  const serviceVersion = config.serviceVersion ?? '7.5';
  if (!/^(7\.\d+(-preview(\.\d+)?)?|\d{4}-\d{2}-\d{2}(-preview)?)$/.test(serviceVersion)) {
    throw new InvalidProviderConfigError('CMK_AZURE_KEYVAULT_API_VERSION', 'must be a Key Vault api-version such as 7.5 or 2025-07-01');
  }
  const maxAttempts = positive('CMK_AZURE_MAX_ATTEMPTS', config.maxAttempts, 4, 10);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new InvalidProviderConfigError('CMK_AZURE_MAX_ATTEMPTS', 'must be an integer from 1 to 10');
  const timeoutMs = positive('CMK_AZURE_TIMEOUT_MS', config.timeoutMs, 10_000, 300_000);
  if (timeoutMs === 0) throw new InvalidProviderConfigError('CMK_AZURE_TIMEOUT_MS', 'must be positive');
  return {
    ...config,
    vaultUrls,
    tokenEndpoint,
    serviceVersion,
    disableChallengeResourceVerification: config.disableChallengeResourceVerification ?? false,
    maxAttempts,
    baseDelayMs: positive('CMK_AZURE_BASE_DELAY_MS', config.baseDelayMs, 100, 60_000),
    maxDelayMs: positive('CMK_AZURE_MAX_DELAY_MS', config.maxDelayMs, 4_000, 300_000),
    maxRetryAfterMs: positive('CMK_AZURE_MAX_RETRY_AFTER_MS', config.maxRetryAfterMs, 30_000, 600_000),
    timeoutMs,
    keyCacheTtlMs: positive('CMK_AZURE_KEY_CACHE_TTL_MS', config.keyCacheTtlMs, 5_000, 3_600_000),
    importParametersTtlMs: positive('CMK_AZURE_IMPORT_TTL_MS', config.importParametersTtlMs, 86_400_000, 30 * 86_400_000) || 86_400_000,
  };
}

/**
 * Reads the settings from the environment: CMK_AZURE_KEYVAULT_URLS, CMK_AZURE_TENANT_ID_REF (default
 * `env:AZURE_TENANT_ID`), CMK_AZURE_CLIENT_ID_REF (`env:AZURE_CLIENT_ID`), CMK_AZURE_CLIENT_SECRET_REF
 * (`env:AZURE_CLIENT_SECRET`), CMK_AZURE_TOKEN_ENDPOINT, CMK_AZURE_KEYVAULT_API_VERSION, CMK_AZURE_MAX_ATTEMPTS,
 * CMK_AZURE_TIMEOUT_MS, CMK_AZURE_KEY_CACHE_TTL_MS.
 */
export function azureKeyVaultConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ValidAzureKeyVaultConfig {
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  return validateAzureKeyVaultConfig({
    vaultUrls: (env.CMK_AZURE_KEYVAULT_URLS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    tenantId: env.CMK_AZURE_TENANT_ID_REF || 'env:AZURE_TENANT_ID',
    clientId: env.CMK_AZURE_CLIENT_ID_REF || 'env:AZURE_CLIENT_ID',
    clientSecret: env.CMK_AZURE_CLIENT_SECRET_REF || 'env:AZURE_CLIENT_SECRET',
    tokenEndpoint: env.CMK_AZURE_TOKEN_ENDPOINT || undefined,
    serviceVersion: env.CMK_AZURE_KEYVAULT_API_VERSION || undefined,
    maxAttempts: num('CMK_AZURE_MAX_ATTEMPTS'),
    timeoutMs: num('CMK_AZURE_TIMEOUT_MS'),
    keyCacheTtlMs: num('CMK_AZURE_KEY_CACHE_TTL_MS'),
  });
}
