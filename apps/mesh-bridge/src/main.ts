import { migrateEventStore, openDatabase, PostgresEventStore, type Database } from '@cmk/event-store';
import { KafkaMesh } from '@cmk/mesh';
import { BridgeConfigError, loadBridgeConfig } from './config';
import { serveBridgeHttp } from './http-server';
import { createLogger } from './logger';
import { MeshBridge } from './mesh-bridge';

/** The bridge as its own process: PostgreSQL event store, Kafka mesh, probes and metrics over HTTP. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadBridgeConfig();
  } catch (e) {
    if (e instanceof BridgeConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  const started = Date.now();

  // Signals are handled from the first moment: a stop during start-up closes whatever exists so far, exit 0.
  let db: Database | undefined;
  let store: PostgresEventStore | undefined;
  let mesh: KafkaMesh | undefined;
  let revocationMesh: KafkaMesh | undefined;
  let bridge: MeshBridge | undefined;
  let http: Awaited<ReturnType<typeof serveBridgeHttp>> | undefined;
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const close = (code: number) => {
    closing ??= (async () => {
      await bridge?.stop().catch((e) => logger.error({ err: e }, 'bridge stop failed'));
      // A signal during start: let start() unwind before its store and mesh are closed under it.
      await starting?.catch(() => undefined);
      await http?.close();
      await mesh?.close().catch(() => undefined);
      await revocationMesh?.close().catch(() => undefined);
      await store?.close().catch(() => undefined);
      await db?.close().catch(() => undefined);
      process.exit(code);
    })();
    return closing;
  };
  process.once('SIGINT', () => void close(0));
  process.once('SIGTERM', () => void close(0));

  db = await openDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize });
  if (closing) return closing;
  // Idempotent and safe beside the control plane's own run: the bridge may start first.
  await migrateEventStore(db.pool, { schema: config.eventStoreSchema, appRole: config.eventStoreAppRole });
  if (closing) return closing;
  store = new PostgresEventStore(db.pool, { schema: config.eventStoreSchema, appRole: config.eventStoreAppRole, notify: true });
  mesh = new KafkaMesh({
    brokers: config.mesh.brokers,
    clientId: `${config.consumerName}-${process.pid}`,
    replicationFactor: config.mesh.replicationFactor,
    logger: logger.child({ component: 'mesh' }),
  });
  // The revocation lane gets its own producer: a revocation never queues behind view messages.
  revocationMesh = new KafkaMesh({
    brokers: config.mesh.brokers,
    clientId: `${config.consumerName}-revocations-${process.pid}`,
    replicationFactor: config.mesh.replicationFactor,
    logger: logger.child({ component: 'mesh-revocations' }),
  });
  bridge = new MeshBridge(
    {
      store,
      mesh,
      revocationMesh,
      logger: logger.child({ component: 'bridge' }),
      onFatal: (error) => {
        logger.fatal({ err: error }, 'mesh bridge cannot continue; exiting for a restart');
        void close(1);
      },
    },
    {
      regions: config.regions,
      topicPrefix: config.mesh.topicPrefix,
      partitions: config.mesh.partitions,
      consumerName: config.consumerName,
      heartbeatMs: config.heartbeatMs,
      workerSilenceIntervals: config.workerSilenceIntervals,
      workerSilenceMinMs: config.workerSilenceMinMs,
      batchSize: config.batchSize,
    },
  );
  http = await serveBridgeHttp(bridge, config.host, config.port);
  if (closing) return closing;
  starting = bridge.start();
  try {
    await starting;
  } catch (error) {
    if (closing) return closing; // stopped by a signal while starting: close() decides the exit code
    throw error;
  }
  logger.info({ url: http.url, regions: config.regions, epoch: bridge.health().epoch, ms: Date.now() - started }, 'mesh bridge started');
}

main().catch((e) => {
  process.stderr.write(`mesh bridge failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
