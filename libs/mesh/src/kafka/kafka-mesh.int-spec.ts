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

  it('publishes a fan-out larger than the broker takes in one partition batch (message.max.bytes 1 MiB), in order', async () => {
    const mesh = new KafkaMesh({ brokers, clientId: 'mesh-fan-out', logger: quiet });
    const name = `mesh-fan-out-${Date.now()}`;
    try {
      await mesh.ensureTopics([{ name, partitions: 1 }]);
      // 3,000 records of 1 KiB on one partition: about 3 MiB, three times what one request may carry.
      const messages = Array.from({ length: 3_000 }, (_, i) => ({ key: `t${i % 7}`, value: `${i}:`.padEnd(1024, 'x') }));
      const seen: number[] = [];
      const all = new Promise<void>((resolve) => {
        void mesh.subscribe(name, { groupId: `${name}-g`, fromBeginning: true }, async (m) => {
          seen.push(Number(m.value.toString().split(':')[0]));
          if (seen.length === messages.length) resolve();
        });
      });
      await mesh.publish(name, messages);
      await all;
      expect(seen).toEqual(messages.map((_, i) => i));
    } finally {
      await mesh.close();
    }
  }, 60_000);

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
