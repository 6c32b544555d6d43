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
  l2CacheSize: number;
  tenantKeyRegistrationTimeoutMs: number;
  auth: {
    issuer: string;
    audience: string;
    jwksUrl: string;
    tenantClaim: string;
    systemClaim: string;
    clockToleranceSeconds: number;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
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
    l2CacheSize: int(env, 'CMK_WORKER_L2_CACHE_SIZE', 10_000, 1, 1_000_000),
    tenantKeyRegistrationTimeoutMs: int(env, 'CMK_WORKER_TENANT_KEY_TIMEOUT_MS', 10_000, 100, 120_000),
    auth: {
      issuer: required(env, 'CMK_AUTH_ISSUER'),
      jwksUrl: httpUrl(env, 'CMK_AUTH_JWKS_URL'),
      audience: env.CMK_WORKER_AUTH_AUDIENCE || 'openkcm-cmk-worker',
      tenantClaim: matching(env, 'CMK_WORKER_TENANT_CLAIM', CLAIM, 'cmk_tenant', 'a claim name'),
      systemClaim: matching(env, 'CMK_WORKER_SYSTEM_CLAIM', CLAIM, 'cmk_system', 'a claim name'),
      clockToleranceSeconds: int(env, 'CMK_AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
    },
    logLevel: logLevel as WorkerConfig['logLevel'],
  };
}
