/**
 * The standalone bridge's configuration, from the environment, validated at start-up: a bad setting stops the
 * process with a message that names it. Names shared with the regional worker (CMK_MESH_*) mean the same there.
 */
export interface BridgeConfig {
  databaseUrl: string;
  databasePoolSize: number;
  eventStoreSchema: string;
  eventStoreAppRole?: string;
  mesh: {
    brokers: string[];
    /** Prepended to every Orbital topic name (lets several deployments share one cluster). */
    topicPrefix: string;
    /** Partitions of the keyed topics the bridge creates (never changed afterwards: it decides key placement). */
    partitions: number;
    replicationFactor: number;
  };
  /** Regions that get a delta topic; a tenant is routed to those its geofence allows. */
  regions: string[];
  consumerName: string;
  heartbeatMs: number;
  /** A worker is recorded silent after this many of its report intervals without a report, and at least the minimum. */
  workerSilenceIntervals: number;
  workerSilenceMinMs: number;
  batchSize: number;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class BridgeConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${setting} ${problem}`);
    this.name = 'BridgeConfigError';
  }
}

type Env = Record<string, string | undefined>;

const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function required(env: Env, name: string, why = 'is required'): string {
  const v = value(env, name);
  if (v === undefined) throw new BridgeConfigError(name, why);
  return v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new BridgeConfigError(name, `must be an integer between ${min} and ${max} (got "${raw}")`);
  return n;
}

function matching(env: Env, name: string, pattern: RegExp, fallback: string, what: string): string {
  const v = value(env, name) ?? fallback;
  if (!pattern.test(v)) throw new BridgeConfigError(name, `must be ${what} (got "${v}")`);
  return v;
}

function identifier(env: Env, name: string, fallback: string): string {
  return matching(env, name, /^[a-z_][a-z0-9_]{0,62}$/, fallback, 'a lower-case SQL identifier');
}

export function loadBridgeConfig(env: Env = process.env): BridgeConfig {
  const databaseUrl = required(env, 'CMK_DATABASE_URL', 'is required (the PostgreSQL event store; embedded mode runs the bridge inside the control plane)');
  let protocol: string;
  try {
    protocol = new URL(databaseUrl).protocol;
  } catch {
    throw new BridgeConfigError('CMK_DATABASE_URL', 'is not a valid URL');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new BridgeConfigError('CMK_DATABASE_URL', 'must use postgres: or postgresql:');

  const brokers = required(env, 'CMK_MESH_BROKERS').split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new BridgeConfigError('CMK_MESH_BROKERS', `has an entry that is not host:port ("${broker}")`);
  }
  const regions = required(env, 'CMK_REGIONS', 'is required (comma-separated regions, e.g. eu-central-1,us-east-1)')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const region of regions) {
    if (!REGION.test(region) || region.length > 64) throw new BridgeConfigError('CMK_REGIONS', `has an entry that is not a region name like eu-central-1 ("${region}")`);
  }
  if (new Set(regions).size !== regions.length) throw new BridgeConfigError('CMK_REGIONS', 'lists a region twice');

  const logLevel = value(env, 'CMK_LOG_LEVEL') ?? 'info';
  if (!(LEVELS as readonly string[]).includes(logLevel)) throw new BridgeConfigError('CMK_LOG_LEVEL', `must be one of ${LEVELS.join(', ')} (got "${logLevel}")`);
  const appRole = env.CMK_EVENT_STORE_APP_ROLE === '' ? undefined : identifier(env, 'CMK_EVENT_STORE_APP_ROLE', 'cmk_event_writer');

  return {
    databaseUrl,
    databasePoolSize: int(env, 'CMK_DATABASE_POOL_SIZE', 5, 2, 100),
    eventStoreSchema: identifier(env, 'CMK_EVENT_STORE_SCHEMA', 'cmk_events'),
    eventStoreAppRole: appRole,
    mesh: {
      brokers,
      topicPrefix: matching(env, 'CMK_MESH_TOPIC_PREFIX', /^[A-Za-z0-9._-]{0,100}$/, '', 'letters, digits, . _ -'),
      partitions: int(env, 'CMK_MESH_PARTITIONS', 6, 1, 1000),
      replicationFactor: int(env, 'CMK_MESH_REPLICATION_FACTOR', 1, 1, 10),
    },
    regions,
    consumerName: matching(env, 'CMK_BRIDGE_CONSUMER', /^[a-z0-9][a-z0-9._-]{0,62}$/, 'mesh-bridge', 'a lower-case name'),
    heartbeatMs: int(env, 'CMK_BRIDGE_HEARTBEAT_MS', 200, 10, 60_000),
    workerSilenceIntervals: int(env, 'CMK_BRIDGE_WORKER_SILENCE_INTERVALS', 3, 2, 100),
    workerSilenceMinMs: int(env, 'CMK_BRIDGE_WORKER_SILENCE_MIN_MS', 5_000, 200, 3_600_000),
    batchSize: int(env, 'CMK_BRIDGE_BATCH_SIZE', 500, 1, 10_000),
    host: value(env, 'CMK_BRIDGE_HOST') ?? '127.0.0.1',
    port: int(env, 'CMK_BRIDGE_PORT', 8091, 0, 65535),
    logLevel: logLevel as BridgeConfig['logLevel'],
  };
}
