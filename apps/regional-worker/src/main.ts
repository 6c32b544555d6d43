/**
 * The regional worker as its own process: configuration from the environment (validated before anything
 * starts; a bad setting exits with a message naming it), Kafka mesh, PKCS#11 provider, the trusted issuers'
 * keys (fetched, refreshed in the background), and HTTPS / mutual TLS when configured.
 */
import { IssuerRegistry, JwtVerifier } from '@cmk/auth';
import { KafkaMesh } from '@cmk/mesh';
import { Pkcs11KeyProvider, pkcs11ConfigFromEnv } from '@cmk/key-providers/pkcs11';
import { readWorkerTls } from './config/worker-tls.config';
import { loadWorkerConfig } from './config/worker.config';
import type { WorkerTlsOptions } from './http/worker-tls';
import { createWorkerLogger } from './observability/logger';
import { RegionalWorker } from './regional-worker';
import { kafkaEndOffsets } from './view/kafka-end-offsets';

async function main(): Promise<void> {
  let config;
  let pkcs11;
  let tls: WorkerTlsOptions | undefined;
  try {
    config = loadWorkerConfig(process.env);
    tls = config.tls ? readWorkerTls(config.tls) : undefined;
    pkcs11 = pkcs11ConfigFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = createWorkerLogger(config.logLevel);
  const mesh = new KafkaMesh({ brokers: config.mesh.brokers, clientId: `cmk-worker-${config.workerId}`, logger: log.child({ workerId: config.workerId }) });
  const endOffsets = kafkaEndOffsets(config.mesh.brokers, `cmk-worker-${config.workerId}-offsets`);
  const provider = new Pkcs11KeyProvider({ ...pkcs11, logger: log.child({ component: 'pkcs11' }) });
  const registry = new IssuerRegistry(config.auth.issuers, { logger: log.child({ component: 'auth' }) });
  const verifier = new JwtVerifier(registry);
  const worker = new RegionalWorker({
    workerId: config.workerId,
    region: config.region,
    mesh,
    endOffsets,
    topicPrefix: config.mesh.topicPrefix,
    providers: [provider],
    verifier,
    tls,
    host: config.host,
    port: config.port,
    usageIntervalMs: config.usageIntervalMs,
    denialDetailLimit: config.denialDetailLimit,
    statusIntervalMs: config.statusIntervalMs,
    l2CacheSize: config.l2CacheSize,
    tenantKeyRegistrationTimeoutMs: config.tenantKeyRegistrationTimeoutMs,
    logger: log,
    defaultMetrics: true,
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await worker.stop().catch((e: Error) => log.error({ err: e.message }, 'stop failed'));
    await Promise.allSettled([provider.close(), mesh.close(), endOffsets.close()]);
    registry.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    // Fail at start on a bad module, token or PIN rather than on the first request.
    await provider.connect();
    // An issuer that cannot be reached yet is retried in the background; its tokens are refused until then.
    const { unavailable } = await registry.start();
    if (unavailable.length > 0) log.warn({ issuers: unavailable }, 'signing keys of some trusted issuers could not be loaded yet; retrying in the background');
    await worker.start();
  } catch (error) {
    log.fatal({ err: (error as Error).message }, 'regional worker failed to start');
    await Promise.allSettled([worker.stop(), provider.close(), mesh.close(), endOffsets.close()]);
    registry.close();
    process.exit(1);
  }
}

void main();
