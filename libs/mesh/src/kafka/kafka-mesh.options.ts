/** Where the Kafka adapter writes what it has to say. Pino's logger fits: `logger.warn({ ...context }, 'message')`. */
export interface MeshLogger {
  error(context: object, message: string): void;
  warn(context: object, message: string): void;
  info(context: object, message: string): void;
  debug(context: object, message: string): void;
}

export interface KafkaMeshOptions {
  /** Bootstrap brokers, `host:port` each. */
  brokers: readonly string[];
  clientId?: string;
  /** Replicas per topic created by ensureTopics. Default 1 (one local broker); use 3 in production. */
  replicationFactor?: number;
  /**
   * How long publish keeps retrying an unavailable broker before it rejects. Checked between attempts, and one
   * attempt (kafkajs' own retries) can take about 4 s more. Default 30 s.
   */
  publishTimeoutMs?: number;
  /** Default broker wait on an empty fetch; kept small so the revocation lane never waits for a batch. Default 20 ms. */
  maxWaitTimeInMs?: number;
  /** A silent consumer leaves its group after this long (a crashed worker's partitions move on). Default 10 s. */
  sessionTimeoutMs?: number;
  /**
   * How long a rebalance waits for members that have not rejoined. It bounds recovery after a broker outage:
   * kafkajs rejoins as a new member then, and the group waits this long for the old one. Default 3 s.
   */
  rebalanceTimeoutMs?: number;
  /** How long subscribe waits to join its group. Default 30 s. */
  subscribeTimeoutMs?: number;
  /**
   * Largest produce request publish sends, in bytes of keys, values and headers (plus a per-record allowance): a
   * larger publish goes out as several requests, in order. Must stay under the broker's `message.max.bytes`
   * (1 MiB by default), which a whole partition batch may not exceed. Default 512 KiB.
   */
  maxRequestBytes?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Default: warnings and errors on the console. */
  logger?: MeshLogger;
}

export type ResolvedKafkaMeshOptions = Required<Omit<KafkaMeshOptions, 'logger'>> & { logger?: MeshLogger };

/** Checks the settings at start-up; a bad one stops the process with a message that names it. */
export function resolveKafkaMeshOptions(options: KafkaMeshOptions): ResolvedKafkaMeshOptions {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new Error('KafkaMesh option "brokers" must list at least one host:port');
  }
  for (const broker of options.brokers) {
    if (typeof broker !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new Error(`KafkaMesh option "brokers" has an entry that is not host:port: ${JSON.stringify(broker)}`);
    }
  }
  const resolved: ResolvedKafkaMeshOptions = {
    brokers: [...options.brokers],
    clientId: options.clientId ?? 'cmk-mesh',
    replicationFactor: options.replicationFactor ?? 1,
    publishTimeoutMs: options.publishTimeoutMs ?? 30_000,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 20,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 3_000,
    subscribeTimeoutMs: options.subscribeTimeoutMs ?? 30_000,
    maxRequestBytes: options.maxRequestBytes ?? 512 * 1024,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 3_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    logger: options.logger,
  };
  for (const name of [
    'replicationFactor',
    'publishTimeoutMs',
    'maxWaitTimeInMs',
    'sessionTimeoutMs',
    'rebalanceTimeoutMs',
    'subscribeTimeoutMs',
    'maxRequestBytes',
    'connectionTimeoutMs',
    'requestTimeoutMs',
  ] as const) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < (name === 'maxWaitTimeInMs' ? 0 : 1)) {
      throw new Error(`KafkaMesh option "${name}" must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  return resolved;
}
