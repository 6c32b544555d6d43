import { useTestKafka } from '@cmk/testing/kafka';
import { describeMeshContract } from '../testing';
import { KafkaMesh } from './kafka-mesh.adapter';
import type { MeshLogger } from './kafka-mesh.options';

/** kafkajs reports rebalances and retried handler failures as warnings; the assertions are what matter here. */
const quiet: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

let brokers: string[] = [];
let release: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ brokers, release } = await useTestKafka());
}, 180_000);

afterAll(async () => {
  await release();
});

describeMeshContract('kafka', () => new KafkaMesh({ brokers, clientId: 'mesh-contract', logger: quiet }));

describe('KafkaMesh', () => {
  it('names the bad setting when the configuration is invalid', () => {
    expect(() => new KafkaMesh({ brokers: [] })).toThrow('KafkaMesh option "brokers" must list at least one host:port');
    expect(() => new KafkaMesh({ brokers: ['localhost'] })).toThrow('not host:port: "localhost"');
    expect(() => new KafkaMesh({ brokers: ['localhost:9092'], publishTimeoutMs: 0 })).toThrow('"publishTimeoutMs"');
  });

  it('creates compacted topics with cleanup.policy=compact and the asked retention', async () => {
    const mesh = new KafkaMesh({ brokers, logger: quiet });
    const { Kafka } = await import('kafkajs');
    const admin = new Kafka({ brokers, logLevel: 0 }).admin();
    try {
      const name = `mesh-config-${Date.now()}`;
      await mesh.ensureTopics([{ name, partitions: 2, compacted: true, retentionMs: 3_600_000 }]);
      await admin.connect();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name, configNames: ['cleanup.policy', 'retention.ms'] }],
      });
      const entries = Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '3600000' });
    } finally {
      await admin.disconnect();
      await mesh.close();
    }
  });

  it('rejects publish after publishTimeoutMs when no broker answers', async () => {
    const mesh = new KafkaMesh({ brokers: ['127.0.0.1:1'], publishTimeoutMs: 1_500, connectionTimeoutMs: 200, logger: quiet });
    const started = Date.now();
    try {
      await expect(mesh.publish('anything', [{ key: 'k', value: 'v' }])).rejects.toThrow(/publishing to mesh topic "anything" failed after \d+ attempt/);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await mesh.close();
    }
  });
});
