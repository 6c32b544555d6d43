/**
 * Configuration by environment, validated at start-up. A bad setting stops the process with a message that
 * names it; nothing falls back silently.
 */
export interface AppConfig {
  mode: 'embedded' | 'postgres';
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  databasePoolSize: number;
  /** Where events live: the PostgreSQL database (also embedded) or an EventStoreDB/KurrentDB cluster. */
  eventStore: 'postgres' | 'eventstoredb';
  /** Validated EventStoreDB connection string when eventStore is eventstoredb. */
  esdbConnectionString?: string;
  eventStoreSchema: string;
  readModelSchema: string;
  /** Role the event store's connections switch to: INSERT and SELECT on events only. */
  eventStoreAppRole?: string;
  readWaitMs: number;
  /** Accept `local` (software, demo) key links: only where nothing sovereign is expected (embedded by default). */
  allowLocalKeys: boolean;
  /** Embedded only: run the in-process mesh, the bridge and three regional workers (the whole loop). */
  embeddedMesh: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  auth: {
    issuer: string;
    audience: string;
    jwksUrl?: string;
    rolesClaim: string;
    tenantClaim: string;
    clockToleranceSeconds: number;
    /** Embedded only: the service issues its own tokens and prints an operator token at start. */
    devIssuer: boolean;
    /** CMK_AUTH_ISSUERS: several trusted OIDC issuers, each with its own claim mapping (replaces the single-issuer settings). */
    issuers: TrustedIssuerConfig[];
  };
  instanceId: string;
  /** How the control plane reaches each provider kind (proof of possession, BYOK import, health sync, rotation). */
  keyProviders: KeyProviderSettings;
  /** Health sync of every linked key; 0 turns the scheduler off (on-demand syncs still work). */
  keyHealthSyncIntervalMs: number;
  /** Rotation of overdue keys; 0 turns the scheduler off (POST /v1/key-rotation/run still works). */
  rotationIntervalMs: number;
  /** CMK_SIEM_SINKS: where the audit log is exported (Splunk HEC, Datadog, syslog); validated at start. */
  siemSinks: SinkConfig[];
  audit: {
    /** Seal (sign a Merkle checkpoint) at least this often when there are new events; 0: only on demand. */
    sealIntervalMs: number;
    /** ...or as soon as this many events are new. */
    sealEvery: number;
    /** Where the checkpoint signing key (Ed25519) lives. */
    signer: { kind: 'memory' } | { kind: 'file'; path: string } | { kind: 'pkcs11'; settings: Record<string, unknown> };
  };
  /** CMK_REGIONS: the regions the mesh bridge serves (its own CMK_REGIONS), for "who could decrypt"; [] when unset. */
  regions: string[];
  /** How many refused requests per source are recorded one by one before they are only counted (denied-attempts audit). */
  deniedAttempts: RateLimitSettings;
  approvals: {
    /** Expire overdue requests and run those whose quorum was reached; 0 turns the sweep off (reads still expire). */
    sweepIntervalMs: number;
    /** CMK_APPROVAL_WEBHOOK_URL: where approvers are notified; absent: no notifications. */
    webhook?: {
      url: string;
      /** HMAC-SHA256 signing secret as a reference (env:NAME or file:/path), read at send time. */
      secretRef: string;
      /** Back-off between delivery attempts doubles up to this. */
      maxBackoffMs: number;
      timeoutMs: number;
    };
  };
}

import { EventStoreDbConfigError, parseEventStoreDbConnection } from '@cmk/event-store';
import { IssuerConfigError, parseTrustedIssuers, TrustedIssuerConfig } from '@cmk/auth';
import { secretRefProblem, SinkConfig, sinkConfigsFromEnv } from '@cmk/audit';
import { KeyProviderSettings, KeyProviderSettingsError, parseKeyProviderSettings } from '../key-links/providers/key-provider-settings';
import { DEFAULT_RATE_LIMIT, type RateLimitSettings } from '../http/denied-attempts/denied-attempts.rate-limiter';

export class ConfigError extends Error {
  constructor(readonly setting: string, problem: string) {
    super(`Invalid configuration: ${setting} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = env[name] ?? fallback;
  if (!allowed.includes(v as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer between ${min} and ${max} (got "${raw}")`);
  return n;
}

function identifier(env: Env, name: string, fallback: string): string {
  const v = env[name] ?? fallback;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v)) throw new ConfigError(name, `must be a lower-case SQL identifier (got "${v}")`);
  return v;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  return v;
}

/**
 * CMK_AUDIT_SIGNER: `file:/path/key.pem` (an Ed25519 PKCS#8 key file, created 0600 on first start), `pkcs11` (the
 * key stays in the HSM; CMK_AUDIT_PKCS11 = {"modulePath","tokenLabel","pin":"env:…","keyLabel","createIfMissing"}),
 * or `memory` (a key for this process only). Default: a key file in the data directory, `memory` for memory://.
 */
function auditSigner(env: Env, dataDir: string): AppConfig['audit']['signer'] {
  const raw = env.CMK_AUDIT_SIGNER ?? (dataDir === 'memory://' ? 'memory' : `file:${dataDir.replace(/\/+$/, '')}/audit-signing-ed25519.pem`);
  if (raw === 'memory') return { kind: 'memory' };
  if (raw.startsWith('file:') && raw.length > 5) return { kind: 'file', path: raw.slice(5) };
  if (raw === 'pkcs11') {
    let settings: unknown;
    try {
      settings = JSON.parse(env.CMK_AUDIT_PKCS11 ?? '');
    } catch {
      throw new ConfigError('CMK_AUDIT_PKCS11', 'must be a JSON object {modulePath, tokenLabel, pin, keyLabel} when CMK_AUDIT_SIGNER=pkcs11');
    }
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) throw new ConfigError('CMK_AUDIT_PKCS11', 'must be a JSON object');
    for (const field of ['modulePath', 'tokenLabel', 'pin', 'keyLabel'])
      if (typeof (settings as Record<string, unknown>)[field] !== 'string') throw new ConfigError(`CMK_AUDIT_PKCS11.${field}`, 'is required (a string)');
    return { kind: 'pkcs11', settings: settings as Record<string, unknown> };
  }
  throw new ConfigError('CMK_AUDIT_SIGNER', `must be file:/path, pkcs11 or memory (got "${raw}")`);
}

function siemSinks(env: Env): SinkConfig[] {
  try {
    return sinkConfigsFromEnv(env as NodeJS.ProcessEnv);
  } catch (error) {
    const e = error as Error & { field?: string };
    const field = e.field ?? 'CMK_SIEM_SINKS';
    throw new ConfigError(field, e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message);
  }
}

function approvals(env: Env): AppConfig['approvals'] {
  const sweepIntervalMs = int(env, 'CMK_APPROVAL_SWEEP_INTERVAL_MS', 60_000, 0, 86_400_000);
  const webhookUrl = url(env, 'CMK_APPROVAL_WEBHOOK_URL', ['http:', 'https:']);
  if (!webhookUrl) {
    if (env.CMK_APPROVAL_WEBHOOK_SECRET) throw new ConfigError('CMK_APPROVAL_WEBHOOK_SECRET', 'is set but CMK_APPROVAL_WEBHOOK_URL is not');
    return { sweepIntervalMs };
  }
  // Unsigned notifications would let anyone who reaches the receiver forge approval traffic.
  const secretRef = env.CMK_APPROVAL_WEBHOOK_SECRET;
  if (!secretRef) throw new ConfigError('CMK_APPROVAL_WEBHOOK_SECRET', 'is required when CMK_APPROVAL_WEBHOOK_URL is set (env:NAME or file:/path)');
  const problem = secretRefProblem(secretRef);
  if (problem) throw new ConfigError('CMK_APPROVAL_WEBHOOK_SECRET', problem);
  return {
    sweepIntervalMs,
    webhook: {
      url: webhookUrl,
      secretRef,
      maxBackoffMs: int(env, 'CMK_APPROVAL_WEBHOOK_MAX_BACKOFF_MS', 300_000, 10, 3_600_000),
      timeoutMs: int(env, 'CMK_APPROVAL_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    },
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const mode = oneOf(env, 'CMK_MODE', ['embedded', 'postgres'] as const, env.CMK_DATABASE_URL ? 'postgres' : 'embedded');
  const databaseUrl = url(env, 'CMK_DATABASE_URL', ['postgres:', 'postgresql:']);
  if (mode === 'postgres' && !databaseUrl) throw new ConfigError('CMK_DATABASE_URL', 'is required when CMK_MODE=postgres');
  const port = int(env, 'CMK_PORT', 8080, 0, 65535);
  const jwksUrl = url(env, 'CMK_AUTH_JWKS_URL', ['http:', 'https:']);
  let issuers: TrustedIssuerConfig[];
  try {
    issuers = parseTrustedIssuers(env);
  } catch (error) {
    if (error instanceof IssuerConfigError) throw new ConfigError(error.field, error.message.slice(error.field.length + 2));
    throw error;
  }
  if (issuers.length > 0 && jwksUrl) throw new ConfigError('CMK_AUTH_ISSUERS', 'and CMK_AUTH_JWKS_URL are alternatives: list every trusted issuer in CMK_AUTH_ISSUERS');
  const devIssuer = mode === 'embedded' && !jwksUrl && issuers.length === 0;
  if (!devIssuer && !jwksUrl && issuers.length === 0)
    throw new ConfigError('CMK_AUTH_ISSUERS', 'or CMK_AUTH_JWKS_URL is required outside embedded mode (your identity providers)');
  if (jwksUrl && !env.CMK_AUTH_ISSUER) throw new ConfigError('CMK_AUTH_ISSUER', 'is required when CMK_AUTH_JWKS_URL is set');
  const issuer = env.CMK_AUTH_ISSUER ?? 'urn:openkcm:cmk:embedded';
  const eventStore = oneOf(env, 'CMK_EVENT_STORE', ['postgres', 'eventstoredb'] as const, 'postgres');
  if (eventStore === 'eventstoredb' && mode !== 'postgres') {
    throw new ConfigError('CMK_EVENT_STORE', 'eventstoredb needs CMK_MODE=postgres (the read models live in PostgreSQL)');
  }
  let esdbConnectionString: string | undefined;
  if (eventStore === 'eventstoredb') {
    try {
      esdbConnectionString = parseEventStoreDbConnection(env.ESDB_CONNECTION_STRING).connectionString;
    } catch (error) {
      if (error instanceof EventStoreDbConfigError) throw new ConfigError('ESDB_CONNECTION_STRING', error.message.replace(/^ESDB_CONNECTION_STRING:? ?/, ''));
      throw error;
    }
  }
  let keyProviders: KeyProviderSettings;
  try {
    keyProviders = parseKeyProviderSettings(env.CMK_KEY_PROVIDERS);
  } catch (error) {
    if (error instanceof KeyProviderSettingsError) throw new ConfigError(error.setting, error.message.slice(error.setting.length + 1));
    throw error;
  }
  return {
    mode,
    host: env.CMK_HOST ?? '127.0.0.1',
    port,
    dataDir: env.CMK_DATA_DIR ?? '.data/cmk',
    databaseUrl,
    databasePoolSize: int(env, 'CMK_DATABASE_POOL_SIZE', 20, 1, 500),
    eventStore,
    esdbConnectionString,
    eventStoreSchema: identifier(env, 'CMK_EVENT_STORE_SCHEMA', 'cmk_events'),
    readModelSchema: identifier(env, 'CMK_READ_MODEL_SCHEMA', 'cmk_read'),
    eventStoreAppRole: env.CMK_EVENT_STORE_APP_ROLE === '' ? undefined : identifier(env, 'CMK_EVENT_STORE_APP_ROLE', 'cmk_event_writer'),
    readWaitMs: int(env, 'CMK_READ_WAIT_MS', 5000, 0, 60000),
    embeddedMesh: mode === 'embedded' && oneOf(env, 'CMK_EMBEDDED_MESH', ['true', 'false'] as const, 'true') === 'true',
    allowLocalKeys: oneOf(env, 'CMK_ALLOW_LOCAL_KEYS', ['true', 'false'] as const, mode === 'embedded' ? 'true' : 'false') === 'true',
    logLevel: oneOf(env, 'CMK_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    auth: {
      issuer,
      audience: env.CMK_AUTH_AUDIENCE ?? 'openkcm-cmk',
      jwksUrl,
      rolesClaim: env.CMK_AUTH_ROLES_CLAIM ?? 'roles',
      tenantClaim: env.CMK_AUTH_TENANT_CLAIM ?? 'tenants',
      clockToleranceSeconds: int(env, 'CMK_AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
      devIssuer,
      issuers,
    },
    instanceId: env.CMK_INSTANCE_ID ?? `cp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    keyProviders,
    keyHealthSyncIntervalMs: int(env, 'CMK_KEY_HEALTH_SYNC_INTERVAL_MS', 300_000, 0, 86_400_000),
    rotationIntervalMs: int(env, 'CMK_ROTATION_INTERVAL_MS', 3_600_000, 0, 86_400_000),
    siemSinks: siemSinks(env),
    audit: {
      sealIntervalMs: int(env, 'CMK_AUDIT_SEAL_INTERVAL_MS', 10_000, 0, 3_600_000),
      sealEvery: int(env, 'CMK_AUDIT_SEAL_EVERY', 1_000, 1, 10_000_000),
      signer: auditSigner(env, env.CMK_DATA_DIR ?? '.data/cmk'),
    },
    approvals: approvals(env),
    deniedAttempts: deniedAttempts(env),
    regions: regions(env),
  };
}

/** Same rule as the mesh bridge's CMK_REGIONS, so one value serves both. */
function regions(env: Env): string[] {
  const list = (env.CMK_REGIONS ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  for (const region of list) {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(region) || region.length > 64) throw new ConfigError('CMK_REGIONS', `has an entry that is not a region name like eu-central-1 ("${region}")`);
  }
  if (new Set(list).size !== list.length) throw new ConfigError('CMK_REGIONS', 'lists a region twice');
  return list;
}

/**
 * The denied-attempts audit's token bucket per (source, status): CMK_DENIED_ATTEMPTS_PER_WINDOW refusals recorded
 * one by one per CMK_DENIED_ATTEMPTS_WINDOW_MS, the rest summarised; CMK_DENIED_ATTEMPTS_MAX_SOURCES sources
 * remembered at once. The bounds keep a typo from turning the audit into a flood or into silence.
 */
function deniedAttempts(env: Env): RateLimitSettings {
  return {
    perWindow: int(env, 'CMK_DENIED_ATTEMPTS_PER_WINDOW', DEFAULT_RATE_LIMIT.perWindow, 1, 10_000),
    windowMs: int(env, 'CMK_DENIED_ATTEMPTS_WINDOW_MS', DEFAULT_RATE_LIMIT.windowMs, 1_000, 86_400_000),
    maxSources: int(env, 'CMK_DENIED_ATTEMPTS_MAX_SOURCES', DEFAULT_RATE_LIMIT.maxSources, 100, 1_000_000),
  };
}
