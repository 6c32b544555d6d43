import { IssuerConfigError, parseTrustedIssuers, TRUSTED_ISSUERS_VARIABLE, TrustedIssuerConfig } from '@cmk/auth';
import { TRUST_DOMAIN } from '../http/spiffe-id';

const DEFAULT_SYSTEM_CLAIM = 'cmk_system';

/**
 * The standalone worker's configuration, from the environment, validated at start-up: a bad setting stops
 * the process with a message that names it. PKCS#11 settings are validated by the adapter's own
 * `pkcs11ConfigFromEnv` (CMK_PKCS11_*), which main.ts calls.
 */
export interface WorkerConfig {
  workerId: string;
  region: string;
  host: string;
  port: number;
  mesh: {
    brokers: string[];
    /** Prepended to every Orbital topic name (lets several deployments share one cluster). */
    topicPrefix: string;
  };
  keyProvider: 'pkcs11';
  usageIntervalMs: number;
  statusIntervalMs: number;
  /** Denials recorded one by one per (tenant, reason) and usage window; beyond, only counted. */
  denialDetailLimit: number;
  l2CacheSize: number;
  tenantKeyRegistrationTimeoutMs: number;
  auth: {
    /**
     * Every issuer whose workload tokens the worker accepts, each with its audience, clock tolerance, tenant claim
     * and system claim (`workload.systemClaim`, `cmk_system` unless set). From CMK_AUTH_ISSUERS, or one issuer from
     * the single-issuer settings (CMK_AUTH_ISSUER, CMK_AUTH_JWKS_URL, CMK_WORKER_*_CLAIM, CMK_WORKER_AUTH_AUDIENCE).
     */
    issuers: TrustedIssuerConfig[];
  };
  /** HTTPS (CMK_WORKER_TLS_CERT/KEY, PEM files) and mutual TLS for workloads (CMK_WORKER_TLS_CLIENT_CA). */
  tls?: WorkerTlsFiles;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface WorkerTlsFiles {
  certFile: string;
  keyFile: string;
  clientAuth?: { caFile: string; trustDomain: string };
}

export class WorkerConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${setting} ${problem}`);
    this.name = 'WorkerConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Same rule as the mesh bridge's CMK_REGIONS: the region names a delta topic. */
const REGION = /^(?=.{1,64}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const CLAIM = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new WorkerConfigError(name, 'is required');
  return value;
}

function matching(env: Env, name: string, pattern: RegExp, fallback: string | undefined, what: string): string {
  const value = env[name] === undefined || env[name] === '' ? fallback : env[name];
  if (value === undefined) throw new WorkerConfigError(name, 'is required');
  if (!pattern.test(value)) throw new WorkerConfigError(name, `must be ${what} (got "${value}")`);
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new WorkerConfigError(name, `must be an integer between ${min} and ${max} (got "${raw}")`);
  return n;
}

function httpUrl(env: Env, name: string): string {
  const raw = required(env, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WorkerConfigError(name, 'is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WorkerConfigError(name, 'must use http: or https:');
  return raw;
}

/** The variables that configure the one issuer of the shorthand; each has a per-issuer field in CMK_AUTH_ISSUERS. */
const SINGLE_ISSUER_SETTINGS: Record<string, string> = {
  CMK_AUTH_ISSUER: 'issuer',
  CMK_AUTH_JWKS_URL: 'jwksUrl',
  CMK_WORKER_AUTH_AUDIENCE: 'audience',
  CMK_WORKER_TENANT_CLAIM: 'tenantClaim',
  CMK_WORKER_SYSTEM_CLAIM: 'workload.systemClaim',
  CMK_AUTH_CLOCK_TOLERANCE_SECONDS: 'clockToleranceSeconds',
};

/**
 * CMK_AUTH_ISSUERS is read by the same parser as the control plane's (one format, one set of rules). Mixing it
 * with the single-issuer settings is refused: one of them would be ignored silently.
 */
function trustedIssuers(env: Env): TrustedIssuerConfig[] {
  let issuers: TrustedIssuerConfig[];
  try {
    issuers = parseTrustedIssuers(env);
  } catch (error) {
    if (error instanceof IssuerConfigError) throw new WorkerConfigError(error.field, error.message.slice(error.field.length + 2));
    throw error;
  }
  if (issuers.length > 0) {
    const mixed = Object.keys(SINGLE_ISSUER_SETTINGS).find((name) => env[name] !== undefined && env[name] !== '');
    if (mixed) throw new WorkerConfigError(mixed, `cannot be combined with ${TRUSTED_ISSUERS_VARIABLE}: give "${SINGLE_ISSUER_SETTINGS[mixed]}" per issuer there`);
    return issuers.map((issuer) => ({ ...issuer, workload: issuer.workload ?? { systemClaim: DEFAULT_SYSTEM_CLAIM } }));
  }
  if (!env.CMK_AUTH_ISSUER?.trim()) throw new WorkerConfigError('CMK_AUTH_ISSUER', `is required (or ${TRUSTED_ISSUERS_VARIABLE} for several issuers)`);
  return [
    {
      issuer: required(env, 'CMK_AUTH_ISSUER'),
      jwksUrl: httpUrl(env, 'CMK_AUTH_JWKS_URL'),
      audience: env.CMK_WORKER_AUTH_AUDIENCE || 'openkcm-cmk-worker',
      tenantClaim: matching(env, 'CMK_WORKER_TENANT_CLAIM', CLAIM, 'cmk_tenant', 'a claim name'),
      workload: { systemClaim: matching(env, 'CMK_WORKER_SYSTEM_CLAIM', CLAIM, DEFAULT_SYSTEM_CLAIM, 'a claim name') },
      clockToleranceSeconds: int(env, 'CMK_AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
    },
  ];
}

/** File paths only; the files are read and checked by readWorkerTls (config/worker-tls.config.ts) at start-up. */
function tlsFiles(env: Env): { tls?: WorkerTlsFiles } {
  const set = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const [certFile, keyFile, caFile, trustDomain] = ['CMK_WORKER_TLS_CERT', 'CMK_WORKER_TLS_KEY', 'CMK_WORKER_TLS_CLIENT_CA', 'CMK_WORKER_MTLS_TRUST_DOMAIN'].map(set);
  if (!certFile && !keyFile) {
    if (caFile) throw new WorkerConfigError('CMK_WORKER_TLS_CLIENT_CA', 'needs HTTPS: set CMK_WORKER_TLS_CERT and CMK_WORKER_TLS_KEY too');
    if (trustDomain) throw new WorkerConfigError('CMK_WORKER_MTLS_TRUST_DOMAIN', 'needs mutual TLS: set CMK_WORKER_TLS_CERT, CMK_WORKER_TLS_KEY and CMK_WORKER_TLS_CLIENT_CA too');
    return {};
  }
  if (!certFile) throw new WorkerConfigError('CMK_WORKER_TLS_CERT', 'is required when CMK_WORKER_TLS_KEY is set');
  if (!keyFile) throw new WorkerConfigError('CMK_WORKER_TLS_KEY', 'is required when CMK_WORKER_TLS_CERT is set');
  if (!caFile) {
    if (trustDomain) throw new WorkerConfigError('CMK_WORKER_MTLS_TRUST_DOMAIN', 'needs CMK_WORKER_TLS_CLIENT_CA (the CA that issues workload certificates)');
    return { tls: { certFile, keyFile } };
  }
  // Without a trust domain any SPIFFE ID the CA signs would do, including another deployment's.
  if (!trustDomain) throw new WorkerConfigError('CMK_WORKER_MTLS_TRUST_DOMAIN', 'is required when CMK_WORKER_TLS_CLIENT_CA is set (the SPIFFE trust domain of workload certificates)');
  if (!TRUST_DOMAIN.test(trustDomain)) throw new WorkerConfigError('CMK_WORKER_MTLS_TRUST_DOMAIN', `must be a SPIFFE trust domain: lower-case letters, digits, . - _ (got "${trustDomain}")`);
  return { tls: { certFile, keyFile, clientAuth: { caFile, trustDomain } } };
}

export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const brokers = required(env, 'CMK_MESH_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new WorkerConfigError('CMK_MESH_BROKERS', `has an entry that is not host:port ("${broker}")`);
  const keyProvider = env.CMK_WORKER_KEY_PROVIDER || 'pkcs11';
  if (keyProvider !== 'pkcs11') throw new WorkerConfigError('CMK_WORKER_KEY_PROVIDER', `must be pkcs11 (the only adapter so far; got "${keyProvider}")`);
  const logLevel = env.CMK_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new WorkerConfigError('CMK_LOG_LEVEL', `must be a pino level (got "${logLevel}")`);
  return {
    workerId: matching(env, 'CMK_WORKER_ID', /^[A-Za-z0-9._-]{1,128}$/, undefined, 'letters, digits, . _ - (at most 128)'),
    region: matching(env, 'CMK_WORKER_REGION', REGION, undefined, 'a lower-case region name like eu-central-1'),
    host: env.CMK_WORKER_HOST || '0.0.0.0',
    port: int(env, 'CMK_WORKER_PORT', 8090, 0, 65535),
    mesh: { brokers, topicPrefix: matching(env, 'CMK_MESH_TOPIC_PREFIX', /^[A-Za-z0-9._-]{0,100}$/, '', 'letters, digits, . _ -') },
    keyProvider,
    usageIntervalMs: int(env, 'CMK_WORKER_USAGE_INTERVAL_MS', 60_000, 100, 3_600_000),
    statusIntervalMs: int(env, 'CMK_WORKER_STATUS_INTERVAL_MS', 10_000, 100, 600_000),
    denialDetailLimit: int(env, 'CMK_WORKER_DENIAL_DETAIL_LIMIT', 100, 0, 10_000),
    l2CacheSize: int(env, 'CMK_WORKER_L2_CACHE_SIZE', 10_000, 1, 1_000_000),
    tenantKeyRegistrationTimeoutMs: int(env, 'CMK_WORKER_TENANT_KEY_TIMEOUT_MS', 10_000, 100, 120_000),
    auth: { issuers: trustedIssuers(env) },
    ...tlsFiles(env),
    logLevel: logLevel as WorkerConfig['logLevel'],
  };
}
