/**
 * The regional worker as its own process: configuration from the environment (validated before anything
 * starts; a bad setting exits with a message naming it), Kafka mesh, PKCS#11 provider, remote JWKS.
 */
import { JwtVerifier } from '@cmk/auth';
import { KafkaMesh } from '@cmk/mesh';
import { Pkcs11KeyProvider, pkcs11ConfigFromEnv } from '@cmk/key-providers/pkcs11';
import { loadWorkerConfig } from './config/worker.config';
import { createWorkerLogger } from './observability/logger';
import { RegionalWorker } from './regional-worker';
import { kafkaEndOffsets } from './view/kafka-end-offsets';

async function main(): Promise<void> {
  let config;
  let pkcs11;
  try {
    config = loadWorkerConfig(process.env);
    pkcs11 = pkcs11ConfigFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const log = createWorkerLogger(config.logLevel);
  const mesh = new KafkaMesh({ brokers: config.mesh.brokers, clientId: `cmk-worker-${config.workerId}`, logger: log.child({ workerId: config.workerId }) });
  const endOffsets = kafkaEndOffsets(config.mesh.brokers, `cmk-worker-${config.workerId}-offsets`);
  const provider = new Pkcs11KeyProvider({ ...pkcs11, logger: log.child({ component: 'pkcs11' }) });
  const verifier = new JwtVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    jwksUrl: config.auth.jwksUrl,
    rolesClaim: 'roles',
    tenantClaim: config.auth.tenantClaim,
    clockToleranceSeconds: config.auth.clockToleranceSeconds,
  });
  const worker = new RegionalWorker({
    workerId: config.workerId,
    region: config.region,
    mesh,
    endOffsets,
    topicPrefix: config.mesh.topicPrefix,
    providers: [provider],
    verifier,
    tenantClaim: config.auth.tenantClaim,
    systemClaim: config.auth.systemClaim,
    host: config.host,
    port: config.port,
    usageIntervalMs: config.usageIntervalMs,
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
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    // Fail at start on a bad module, token or PIN rather than on the first request.
    await provider.connect();
    await worker.start();
  } catch (error) {
    log.fatal({ err: (error as Error).message }, 'regional worker failed to start');
    await Promise.allSettled([worker.stop(), provider.close(), mesh.close(), endOffsets.close()]);
    process.exit(1);
  }
}

void main();
