import { BridgeConfigError, loadBridgeConfig } from './config';

const base = {
  CMK_DATABASE_URL: 'postgres://cmk@db:5432/cmk',
  CMK_MESH_BROKERS: 'kafka-1:9092, kafka-2:9092',
  CMK_REGIONS: 'eu-central-1,us-east-1',
};

describe('loadBridgeConfig', () => {
  it('reads the minimal configuration with defaults', () => {
    expect(loadBridgeConfig(base)).toEqual({
      databaseUrl: 'postgres://cmk@db:5432/cmk',
      databasePoolSize: 5,
      eventStoreSchema: 'cmk_events',
      eventStoreAppRole: 'cmk_event_writer',
      mesh: { brokers: ['kafka-1:9092', 'kafka-2:9092'], topicPrefix: '', partitions: 6, replicationFactor: 1 },
      regions: ['eu-central-1', 'us-east-1'],
      consumerName: 'mesh-bridge',
      heartbeatMs: 200,
      workerSilenceIntervals: 3,
      workerSilenceMinMs: 5000,
      batchSize: 500,
      host: '127.0.0.1',
      port: 8091,
      logLevel: 'info',
    });
  });

  it('takes every setting', () => {
    const config = loadBridgeConfig({
      ...base,
      CMK_EVENT_STORE_SCHEMA: 'es',
      CMK_EVENT_STORE_APP_ROLE: '',
      CMK_MESH_TOPIC_PREFIX: 'staging.',
      CMK_MESH_PARTITIONS: '12',
      CMK_MESH_REPLICATION_FACTOR: '3',
      CMK_BRIDGE_CONSUMER: 'bridge-b',
      CMK_BRIDGE_HEARTBEAT_MS: '50',
      CMK_BRIDGE_BATCH_SIZE: '100',
      CMK_BRIDGE_HOST: '0.0.0.0',
      CMK_BRIDGE_PORT: '0',
      CMK_LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      eventStoreSchema: 'es',
      eventStoreAppRole: undefined,
      mesh: { topicPrefix: 'staging.', partitions: 12, replicationFactor: 3 },
      consumerName: 'bridge-b',
      heartbeatMs: 50,
      batchSize: 100,
      host: '0.0.0.0',
      port: 0,
      logLevel: 'debug',
    });
  });

  it.each([
    [{ CMK_DATABASE_URL: undefined }, 'CMK_DATABASE_URL is required'],
    [{ CMK_DATABASE_URL: 'mysql://x' }, 'CMK_DATABASE_URL must use postgres: or postgresql:'],
    [{ CMK_DATABASE_URL: 'not a url' }, 'CMK_DATABASE_URL is not a valid URL'],
    [{ CMK_MESH_BROKERS: '' }, 'CMK_MESH_BROKERS is required'],
    [{ CMK_MESH_BROKERS: 'kafka' }, 'CMK_MESH_BROKERS has an entry that is not host:port ("kafka")'],
    [{ CMK_REGIONS: undefined }, 'CMK_REGIONS is required'],
    [{ CMK_REGIONS: 'eu-central-1,EU West' }, 'CMK_REGIONS has an entry that is not a region name like eu-central-1 ("EU West")'],
    [{ CMK_REGIONS: 'eu-central-1,eu-central-1' }, 'CMK_REGIONS lists a region twice'],
    [{ CMK_BRIDGE_HEARTBEAT_MS: '5' }, 'CMK_BRIDGE_HEARTBEAT_MS must be an integer between 10 and 60000 (got "5")'],
    [{ CMK_BRIDGE_PORT: 'http' }, 'CMK_BRIDGE_PORT must be an integer'],
    [{ CMK_MESH_PARTITIONS: '0' }, 'CMK_MESH_PARTITIONS must be an integer between 1 and 1000'],
    [{ CMK_MESH_TOPIC_PREFIX: 'a b' }, 'CMK_MESH_TOPIC_PREFIX must be letters, digits, . _ -'],
    [{ CMK_EVENT_STORE_SCHEMA: 'Events' }, 'CMK_EVENT_STORE_SCHEMA must be a lower-case SQL identifier'],
    [{ CMK_LOG_LEVEL: 'loud' }, 'CMK_LOG_LEVEL must be one of'],
  ])('refuses %j naming the setting', (override, message) => {
    const env = { ...base, ...override };
    expect(() => loadBridgeConfig(env)).toThrow(BridgeConfigError);
    expect(() => loadBridgeConfig(env)).toThrow(`Invalid configuration: ${message}`);
  });
});
