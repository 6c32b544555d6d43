import { Partitioners } from 'kafkajs';
import { describeMeshContract } from '../testing';
import { InProcessMesh } from './in-process-mesh.adapter';
import { partitionForKey } from './key-partitioner';

describeMeshContract('in-process', () => new InProcessMesh({ redeliveryDelayMs: 5 }), { deliveryTimeoutMs: 5_000, quietPeriodMs: 50 });

describe('InProcessMesh', () => {
  it('places keys in the same partitions as Kafka clients do (murmur2)', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'tenant-42', 'zürich', '3f2b8c1e-7d4a-4b6e-9c1f-2a5d8e7b6c40'];
    for (let i = 0; i < 200; i++) keys.push(`tenant-${i}-${'x'.repeat(i % 9)}`);
    for (const partitions of [1, 3, 12]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
      for (const key of keys) {
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } } as never);
        expect({ key, partitions, p: partitionForKey(key, partitions) }).toEqual({ key, partitions, p: expected });
      }
    }
  });

  it('keeps exactly the latest value per key in a compacted topic, with offsets unchanged', async () => {
    const mesh = new InProcessMesh();
    await mesh.ensureTopics([{ name: 'state', partitions: 1, compacted: true }]);
    await mesh.publish('state', [
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'b1' },
      { key: 'a', value: 'a2' },
      { key: 'c', value: 'c1' },
      { key: 'b', value: 'b2' },
    ]);
    const seen: string[] = [];
    const subscription = await mesh.subscribe('state', { fromBeginning: true }, async (m) => {
      seen.push(`${m.offset}:${m.value.toString()}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.stop();
    await mesh.close();
    expect(seen).toEqual(['2:a2', '3:c1', '4:b2']);
  });

  it('drops messages older than the retention time', async () => {
    const mesh = new InProcessMesh();
    await mesh.ensureTopics([{ name: 'usage', partitions: 1, retentionMs: 50 }]);
    await mesh.publish('usage', [{ key: 'k', value: 'old' }]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await mesh.publish('usage', [{ key: 'k', value: 'new' }]);
    const seen: string[] = [];
    const subscription = await mesh.subscribe('usage', { fromBeginning: true }, async (m) => {
      seen.push(m.value.toString());
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.stop();
    await mesh.close();
    expect(seen).toEqual(['new']);
  });

  it('is unusable after close', async () => {
    const mesh = new InProcessMesh();
    await mesh.close();
    await expect(mesh.ensureTopics([{ name: 't', partitions: 1 }])).rejects.toThrow('the mesh is closed');
  });
});
