import { type Admin, Kafka, logLevel } from 'kafkajs';
import type { EndOffsets, PartitionEnd } from './end-offsets';

/** End offsets from Kafka's admin API (high and low watermarks), for the standalone worker. */
export function kafkaEndOffsets(brokers: readonly string[], clientId = 'cmk-worker-offsets'): EndOffsets {
  const kafka = new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } });
  let admin: Promise<Admin> | null = null;
  const connected = (): Promise<Admin> => {
    if (!admin) {
      const a = kafka.admin();
      admin = a.connect().then(() => a);
      admin.catch(() => (admin = null));
    }
    return admin;
  };
  return {
    async read(topic): Promise<PartitionEnd[]> {
      const offsets = await (await connected()).fetchTopicOffsets(topic);
      return offsets
        .map((o) => ({ partition: o.partition, start: BigInt(o.low), end: BigInt(o.high) }))
        .sort((a, b) => a.partition - b.partition);
    },
    async close() {
      const a = admin;
      admin = null;
      await a?.then((x) => x.disconnect()).catch(() => undefined);
    },
  };
}
