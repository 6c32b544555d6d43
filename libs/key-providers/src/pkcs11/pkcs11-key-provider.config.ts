import { isAbsolute } from 'node:path';
import { CredentialRef, CredentialResolver, parseCredentialRef } from '../credentials/credential-source';
import { InvalidProviderConfigError } from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';

/**
 * How RSA-OAEP-SHA-256 is computed. `native`: CKM_RSA_PKCS_OAEP with SHA-256/MGF1-SHA-256 in the token. `raw-rsa`:
 * CKM_RSA_X_509 in the token, OAEP padding in the adapter (tokens that only do OAEP with SHA-1, like SoftHSM2
 * 2.6). `auto` (default) tries native once and falls back when the token refuses the parameters.
 */
export type RsaOaepMode = 'auto' | 'native' | 'raw-rsa';

/**
 * How the single-part C_Encrypt / C_Decrypt run. `async`: on libuv's thread pool (pkcs11js *Async), so pooled
 * sessions work in parallel and the event loop never waits on the token: right for network HSMs and RSA
 * private-key operations. `sync`: on the event loop thread, which saves the thread-pool hand-off (about 2x for
 * AES on SoftHSM2, see the report) but blocks the loop for the duration of each call: only for in-process
 * software tokens.
 */
export type Pkcs11CallMode = 'async' | 'sync';


export interface Pkcs11KeyProviderConfig {
  /** Path of the PKCS#11 library (CMK_PKCS11_MODULE). */
  modulePath: string;
  /** Label of the token holding the keys (CMK_PKCS11_TOKEN_LABEL). */
  tokenLabel: string;
  /** Reference to the user PIN, never the PIN: `env:CMK_PKCS11_PIN` or `file:/run/secrets/hsm-pin`. */
  pin: CredentialRef;
  /** Upper bound on open sessions (default 8). Parallelism is also bounded by UV_THREADPOOL_SIZE (default 4). */
  maxSessions?: number;
  /** How long a call waits for a free session before failing with ProviderUnavailable (default 10 000 ms). */
  acquireTimeoutMs?: number;
  rsaOaep?: RsaOaepMode;
  /** `async` (default) or `sync`; see {@link Pkcs11CallMode}. `sync` only for in-process software tokens. */
  callMode?: Pkcs11CallMode;
  /** How long BYOK import parameters stay valid (default 24 h; 1 s to 30 days). */
  importParametersTtlMs?: number;
  /** Where PIN references are resolved; defaults to the environment and files. */
  credentials?: CredentialResolver;
  logger?: KeyProviderLogger;
}

export type ValidPkcs11Config = Required<Omit<Pkcs11KeyProviderConfig, 'credentials' | 'logger'>> &
  Pick<Pkcs11KeyProviderConfig, 'credentials' | 'logger'>;

/** Checks every setting at start-up; a bad one throws {@link InvalidProviderConfigError} naming it. */
export function validatePkcs11Config(config: Pkcs11KeyProviderConfig): ValidPkcs11Config {
  if (!config.modulePath || !isAbsolute(config.modulePath)) {
    throw new InvalidProviderConfigError('CMK_PKCS11_MODULE', 'must be the absolute path of a PKCS#11 library');
  }
  if (!config.tokenLabel || Buffer.byteLength(config.tokenLabel) > 32) {
    throw new InvalidProviderConfigError('CMK_PKCS11_TOKEN_LABEL', 'must be a token label of 1 to 32 bytes');
  }
  parseCredentialRef(config.pin ?? '', 'CMK_PKCS11_PIN_REF');
  const maxSessions = config.maxSessions ?? 8;
  if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > 256) {
    throw new InvalidProviderConfigError('CMK_PKCS11_MAX_SESSIONS', 'must be an integer from 1 to 256');
  }
  const acquireTimeoutMs = config.acquireTimeoutMs ?? 10_000;
  if (!Number.isFinite(acquireTimeoutMs) || acquireTimeoutMs <= 0) {
    throw new InvalidProviderConfigError('CMK_PKCS11_ACQUIRE_TIMEOUT_MS', 'must be a positive number of milliseconds');
  }
  const rsaOaep = config.rsaOaep ?? 'auto';
  if (!['auto', 'native', 'raw-rsa'].includes(rsaOaep)) {
    throw new InvalidProviderConfigError('CMK_PKCS11_RSA_OAEP', 'must be auto, native or raw-rsa');
  }
  const callMode = config.callMode ?? 'async';
  if (!['async', 'sync'].includes(callMode)) {
    throw new InvalidProviderConfigError('CMK_PKCS11_CALL_MODE', 'must be async or sync');
  }
  const importParametersTtlMs = config.importParametersTtlMs ?? 24 * 3600_000;
  if (!Number.isInteger(importParametersTtlMs) || importParametersTtlMs < 1000 || importParametersTtlMs > 30 * 24 * 3600_000) {
    throw new InvalidProviderConfigError('CMK_PKCS11_IMPORT_TTL_MS', 'must be a whole number of milliseconds from 1 000 (1 s) to 2 592 000 000 (30 days)');
  }
  return { ...config, maxSessions, acquireTimeoutMs, rsaOaep, callMode, importParametersTtlMs };
}

/**
 * Reads the settings from the environment: CMK_PKCS11_MODULE, CMK_PKCS11_TOKEN_LABEL, CMK_PKCS11_PIN_REF
 * (default `env:CMK_PKCS11_PIN`), CMK_PKCS11_MAX_SESSIONS, CMK_PKCS11_ACQUIRE_TIMEOUT_MS, CMK_PKCS11_RSA_OAEP,
 * CMK_PKCS11_CALL_MODE, CMK_PKCS11_IMPORT_TTL_MS.
 */
export function pkcs11ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ValidPkcs11Config {
  const num = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : Number(env[name]));
  return validatePkcs11Config({
    modulePath: env.CMK_PKCS11_MODULE ?? '',
    tokenLabel: env.CMK_PKCS11_TOKEN_LABEL ?? '',
    pin: env.CMK_PKCS11_PIN_REF || 'env:CMK_PKCS11_PIN',
    maxSessions: num('CMK_PKCS11_MAX_SESSIONS'),
    acquireTimeoutMs: num('CMK_PKCS11_ACQUIRE_TIMEOUT_MS'),
    rsaOaep: (env.CMK_PKCS11_RSA_OAEP || undefined) as RsaOaepMode | undefined,
    callMode: (env.CMK_PKCS11_CALL_MODE || undefined) as Pkcs11CallMode | undefined,
    importParametersTtlMs: num('CMK_PKCS11_IMPORT_TTL_MS'),
  });
}
