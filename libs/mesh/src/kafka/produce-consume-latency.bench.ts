/**
 * Produce-to-consume latency on a real broker: raw kafkajs (the floor the kill-switch benchmark compares
 * against) and the same path through KafkaMesh. Not part of the test run; run it on purpose with
 *
 *   npx jest --testRegex 'produce-consume-latency\.bench\.ts$' libs/mesh
 *
 * It uses CMK_TEST_KAFKA_BROKERS when set and otherwise starts a broker of its own. One message in flight at a
 * time (send, wait until the consumer has it, next), acks=all, idempotent producer, 500 messages after 50 warm-up,
 * twice: back to back, and with 10 ms of quiet before each send. The spaced figure is the one that matches a
 * revocation lane (sparse messages reaching an idle consumer); back to back, kafkajs' per-batch work after each
 * message (offset commit, heartbeat, next fetch) adds about 5 ms on this machine.
 */
import { useTestKafka } from '@cmk/testing/kafka';
import { openRawKafkaProbe } from '@cmk/testing/raw-kafka-probe';
import { KafkaMesh } from './kafka-mesh.adapter';

const WARM_UP = 50;
const MESSAGES = 500;

let brokers: string[] = [];
let release: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  ({ brokers, release } = await useTestKafka());
}, 180_000);

afterAll(async () => {
  await release();
});

it('raw kafkajs produce-to-consume latency', async () => {
  const probe = await openRawKafkaProbe(brokers, `latency-raw-${Date.now()}`, 'latency-bench');
  const roundTrip = (i: number) => probe.roundTrip(i);
  const backToBack = await measure(roundTrip, 0);
  const spaced = await measure(roundTrip, 10);
  await probe.stopConsumer();
  // The produce leg alone (acks=all): how much of the round trip is the broker's acknowledgement.
  const produceOnly = await measure((i) => probe.produce(i), 0);
  await probe.close();
  report('raw kafkajs, back to back', backToBack);
  report('raw kafkajs, spaced 10 ms', spaced);
  report('raw kafkajs, produce only (acks=all)', produceOnly);
}, 120_000);

it('KafkaMesh produce-to-consume latency', async () => {
  const mesh = new KafkaMesh({ brokers, clientId: 'latency-bench' });
  const topic = `latency-mesh-${Date.now()}`;
  await mesh.ensureTopics([{ name: topic, partitions: 1 }]);
  let arrived: (() => void) | null = null;
  const subscription = await mesh.subscribe(topic, `${topic}-g`, async () => arrived?.());

  const roundTrip = async (i: number): Promise<void> => {
    const got = new Promise<void>((resolve) => (arrived = resolve));
    await mesh.publish(topic, [{ key: 'tenant', value: String(i) }]);
    await got;
  };
  const backToBack = await measure(roundTrip, 0);
  const spaced = await measure(roundTrip, 10);
  await subscription.stop();
  await mesh.close();
  report('KafkaMesh, back to back', backToBack);
  report('KafkaMesh, spaced 10 ms', spaced);
}, 120_000);

async function measure(roundTrip: (i: number) => Promise<void>, gapMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARM_UP + MESSAGES; i++) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const started = process.hrtime.bigint();
    await roundTrip(i);
    if (i >= WARM_UP) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

function report(label: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(2);
  // eslint-disable-next-line no-console
  console.log(`${label}: n=${sorted.length} p50=${at(0.5)} ms p99=${at(0.99)} ms max=${sorted[sorted.length - 1].toFixed(2)} ms`);
  expect(sorted).toHaveLength(MESSAGES);
}
