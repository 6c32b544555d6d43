import { type KafkaBroker, restartKafka, startKafka, stopKafka } from '@cmk/testing/kafka';
import { MESH_POSITION_HEADER, type MeshMessage, type MeshSubscription, type ReceivedMessage } from '../mesh.port';
import { KafkaMesh } from './kafka-mesh.adapter';
import type { MeshLogger } from './kafka-mesh.options';

/**
 * Broker restarts in the middle of a stream. This suite runs a broker of its own, since restarting the shared
 * one would disturb the suites running beside it.
 */
const quiet: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const TENANTS = 10;

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await startKafka();
}, 180_000);

afterAll(async () => {
  if (broker) await stopKafka(broker);
});

describe.each([
  ['a clean restart (SIGTERM)', false],
  ['a crash and restart (SIGKILL)', true],
])('KafkaMesh across %s of the broker', (_label, hard) => {
  it('delivers everything published before, during and after it, in per-key order, with duplicates only', async () => {
    const mesh = new KafkaMesh({ brokers: [broker.brokers], publishTimeoutMs: 90_000, logger: quiet });
    const topic = `restart-${hard ? 'hard' : 'clean'}-${Date.now()}`;
    let subscription: MeshSubscription | undefined;
    try {
      await mesh.ensureTopics([{ name: topic, partitions: 3 }]);
      const consumer = new DedupingConsumer();
      subscription = await mesh.subscribe(topic, `restart-group-${topic}`, async (m) => consumer.handle(m));

      let position = 0;
      const publishBatch = async (): Promise<void> => {
        const messages: MeshMessage[] = [];
        for (let i = 0; i < 20; i++) {
          position++;
          messages.push({ key: `tenant-${position % TENANTS}`, value: String(position), headers: { [MESH_POSITION_HEADER]: String(position) } });
        }
        await mesh.publish(topic, messages);
      };

      for (let i = 0; i < 10; i++) await publishBatch();
      await waitFor('the first 200 before the restart', () => consumer.applied === 200, 30_000);

      // Keep publishing while the broker goes down and comes back: each publish retries until it is acknowledged.
      let restarted = false;
      const restart = restartKafka(broker, { hard }).then((b) => {
        restarted = true;
        return b;
      });
      let during = 0;
      while (!restarted) {
        await publishBatch();
        during++;
      }
      expect((await restart).brokers).toBe(broker.brokers);
      for (let i = 0; i < 10; i++) await publishBatch();

      await waitFor(`all ${position} messages after the restart`, () => consumer.applied === position, 90_000);
      expect(consumer.violations).toEqual([]);
      expect(during).toBeGreaterThan(0);
      // Duplicates are allowed (at-least-once) and were dropped by position; nothing was applied twice.
      expect(consumer.appliedPositions().sort((a, b) => a - b)).toEqual(Array.from({ length: position }, (_, i) => i + 1));
    } finally {
      await subscription?.stop().catch(() => undefined);
      await mesh.close();
    }
  }, 180_000);
});

/** The consumer discipline from the port: per key, drop positions at or below the last applied one. */
class DedupingConsumer {
  applied = 0;
  readonly violations: string[] = [];
  private readonly lastByKey = new Map<string, number>();
  private readonly positions: number[] = [];

  async handle(m: ReceivedMessage): Promise<void> {
    const position = Number(m.headers[MESH_POSITION_HEADER]);
    const key = m.key ?? '';
    const last = this.lastByKey.get(key) ?? 0;
    if (position <= last) return;
    // Positions of one key step by TENANTS (see publishBatch): anything else skipped over a message.
    const expected = last === 0 ? (position % TENANTS === 0 ? TENANTS : position % TENANTS) : last + TENANTS;
    if (position !== expected) this.violations.push(`${key}: ${position} after ${last}`);
    this.lastByKey.set(key, position);
    this.positions.push(position);
    this.applied++;
  }

  appliedPositions(): number[] {
    return [...this.positions];
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
