import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { LocalKeyProvider } from '@cmk/key-providers/local';
import { CheckpointSigner, keyFileCheckpointSigner, memoryCheckpointSigner } from '@cmk/audit';
import { DevIssuer, IssuerRegistry, JwtVerifier } from '@cmk/auth';
import { EventStore, migrateEventStore, openDatabase, PostgresEventStore } from '@cmk/event-store';
import { createReadModelDataSource, ProjectionRunner, ReadModelQueries } from '@cmk/read-models';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config';
import { IdempotencyStore } from '../http/idempotency/idempotency.store';
import { createMetrics, Metrics } from './metrics';
import { logger } from './logger';
import { EmbeddedMesh } from '../embedded/embedded-mesh';
import { KeyProviderRegistry } from '../key-links/providers/key-provider-registry';
import { KeyProviderSettingsError } from '../key-links/providers/key-provider-settings';
import { ConfigError } from '../config/config';

/** Everything with I/O the control plane needs, opened once and closed in reverse order. */
export interface Infrastructure {
  config: AppConfig;
  pool: Pool;
  store: EventStore;
  dataSource: DataSource;
  projections: ProjectionRunner;
  queries: ReadModelQueries;
  idempotency: IdempotencyStore;
  verifier: JwtVerifier;
  devIssuer?: DevIssuer;
  metrics: Metrics;
  /** Embedded mode: the in-process mesh, bridge and regional workers. */
  embedded?: EmbeddedMesh;
  keyProviders: KeyProviderRegistry;
  /** Signs audit checkpoints (HSM, key file or memory). */
  auditSigner: CheckpointSigner;
  close(): Promise<void>;
}

export async function openInfrastructure(config: AppConfig): Promise<Infrastructure> {
  const db =
    config.mode === 'embedded'
      ? await openDatabase({ kind: 'embedded', dataDir: config.dataDir === 'memory://' ? 'memory://' : `${config.dataDir}/pgdata` })
      : await openDatabase({ kind: 'postgres', url: config.databaseUrl!, poolSize: config.databasePoolSize });
  const metrics = createMetrics();
  const onEventStoreDb = config.eventStore === 'eventstoredb';
  let store: EventStore;
  if (onEventStoreDb) {
    // Loaded only here: the gRPC client is not needed (nor paid for at start) on PostgreSQL.
    const { EventStoreDbEventStore } = await import('@cmk/event-store/eventstoredb');
    store = new EventStoreDbEventStore({ connectionString: config.esdbConnectionString! });
    await store.ping();
  } else {
    await migrateEventStore(db.pool, { schema: config.eventStoreSchema, appRole: config.eventStoreAppRole });
    store = new PostgresEventStore(db.pool, { schema: config.eventStoreSchema, appRole: config.eventStoreAppRole, notify: db.kind === 'postgres' });
  }
  const dataSource = await createReadModelDataSource(
    db.kind === 'embedded' ? { schema: config.readModelSchema, sharedPool: db.pool } : { schema: config.readModelSchema, url: config.databaseUrl!, poolSize: config.databasePoolSize },
  );
  const projections = new ProjectionRunner(store, dataSource, {
    schema: config.readModelSchema,
    instanceId: config.instanceId,
    registry: metrics.registry,
    logger,
    // When the event store shares the read models' database, the audit index copies events in SQL.
    eventsTable: onEventStoreDb ? undefined : `"${config.eventStoreSchema}".events`,
  });
  const queries = new ReadModelQueries(dataSource);
  const idempotency = new IdempotencyStore(db.pool, config.readModelSchema);
  await idempotency.migrate();

  const dataDir = config.dataDir === 'memory://' ? undefined : config.dataDir;
  const devIssuer = config.auth.devIssuer ? await DevIssuer.open({ dataDir, issuer: config.auth.issuer, audience: config.auth.audience }) : undefined;
  const verifier = config.auth.issuers.length > 0 ? await multiIssuerVerifier(config) : new JwtVerifier({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    ...(devIssuer ? { jwks: devIssuer.jwks } : { jwksUrl: config.auth.jwksUrl }),
    rolesClaim: config.auth.rolesClaim,
    tenantClaim: config.auth.tenantClaim,
    clockToleranceSeconds: config.auth.clockToleranceSeconds,
  });

  // The demo's software root of trust, shared by the control plane (proof of possession) and the embedded workers.
  const localKeys = config.allowLocalKeys ? await openLocalKeys(dataDir) : undefined;
  let keyProviders: KeyProviderRegistry;
  try {
    keyProviders = await KeyProviderRegistry.open(config.keyProviders, localKeys);
  } catch (error) {
    if (error instanceof KeyProviderSettingsError) throw new ConfigError(error.setting, error.message.slice(error.setting.length + 1));
    throw error;
  }

  const auditSigner = await openAuditSigner(config);

  const embedded =
    config.embeddedMesh && devIssuer && localKeys
      ? await EmbeddedMesh.start({ store, issuer: devIssuer, keys: localKeys, host: config.host, basePort: config.port, logger })
      : undefined;

  return {
    config, pool: db.pool, store, dataSource, projections, queries, idempotency, verifier, devIssuer, metrics, embedded, keyProviders, auditSigner,
    async close() {
      await embedded?.close();
      await keyProviders.close();
      await localKeys?.close();
      await auditSigner.close();
      await projections.stop();
      await store.close();
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.close();
      verifier.close();
    },
  };
}

async function openLocalKeys(dataDir: string | undefined): Promise<LocalKeyProvider> {
  const keys = new LocalKeyProvider({ dir: dataDir ? join(dataDir, 'local-keys') : mkdtempSync(join(tmpdir(), 'cmk-local-keys-')) });
  await keys.createKey('demo-root');
  return keys;
}

/** Several trusted issuers (CMK_AUTH_ISSUERS). An issuer whose keys cannot be loaded yet is retried in the background. */
async function multiIssuerVerifier(config: AppConfig): Promise<JwtVerifier> {
  const registry = new IssuerRegistry(config.auth.issuers, { logger });
  const { unavailable } = await registry.start();
  if (unavailable.length > 0) logger.warn({ issuers: unavailable }, 'signing keys of some trusted issuers could not be loaded yet; retrying in the background');
  return new JwtVerifier(registry);
}

async function openAuditSigner(config: AppConfig): Promise<CheckpointSigner> {
  const signer = config.audit.signer;
  if (signer.kind === 'memory') return memoryCheckpointSigner();
  if (signer.kind === 'file') {
    try {
      return keyFileCheckpointSigner(signer.path);
    } catch (error) {
      throw new ConfigError('CMK_AUDIT_SIGNER', (error as Error).message);
    }
  }
  // Loaded only here: the HSM signer needs the native PKCS#11 addon.
  const { Pkcs11Ed25519Signer } = await import('@cmk/key-providers/pkcs11');
  const hsm = await Pkcs11Ed25519Signer.open(signer.settings as never);
  const { ed25519KeyId } = await import('@cmk/audit');
  return { keyId: ed25519KeyId(hsm.publicKey), publicKey: hsm.publicKey, location: hsm.location, sign: (p) => hsm.sign(p), close: () => hsm.close() };
}
