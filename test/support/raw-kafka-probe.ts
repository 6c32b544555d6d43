import { Kafka, logLevel, Partitioners } from 'kafkajs';

/**
 * Raw kafkajs, as the floor the mesh is measured against: an idempotent producer (acks=all, one request in flight)
 * and a consumer on a fresh one-partition topic. `roundTrip` sends one message and resolves when the consumer
 * has it; `produce` sends without waiting for the consumer. Shared by the latency benchmarks.
 */
export interface RawKafkaProbe {
  roundTrip(i: number): Promise<void>;
  produce(i: number): Promise<void>;
  stopConsumer(): Promise<void>;
  close(): Promise<void>;
}

export async function openRawKafkaProbe(brokers: string[], topic: string, clientId = 'raw-kafka-probe'): Promise<RawKafkaProbe> {
  const kafka = new Kafka({ brokers, clientId, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `${topic}-g`, maxWaitTimeInMs: 20, minBytes: 1 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let arrived: (() => void) | null = null;
  await consumer.run({ eachMessage: async () => arrived?.() });

  const produce = async (i: number): Promise<void> => {
    await producer.send({ topic, acks: -1, messages: [{ key: 'tenant', value: String(i) }] });
  };
  let consuming = true;
  return {
    produce,
    async roundTrip(i) {
      const got = new Promise<void>((resolve) => (arrived = resolve));
      await produce(i);
      await got;
    },
    async stopConsumer() {
      if (consuming) await consumer.disconnect();
      consuming = false;
    },
    async close() {
      if (consuming) await consumer.disconnect();
      consuming = false;
      await producer.disconnect();
    },
  };
}
