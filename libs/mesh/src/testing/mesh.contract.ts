import { randomBytes } from 'node:crypto';
import { MeshUnknownTopicError } from '../mesh.errors';
import { MESH_POSITION_HEADER, type Mesh, type MeshMessage, type MeshSubscription, type ReceivedMessage } from '../mesh.port';

export type MeshContractFactory = () => Mesh | Promise<Mesh>;

export interface MeshContractOptions {
  /** Longest wait for expected deliveries (a real broker needs more than memory). Default 20 s. */
  deliveryTimeoutMs?: number;
  /** How long to watch for deliveries that must not happen. Default 300 ms. */
  quietPeriodMs?: number;
}

/**
 * The guarantees of the Mesh port as one suite, to run unchanged against every adapter. The factory is called
 * before each test and the mesh closed after it. Every test works on topics and groups of its own, so a shared
 * broker works too.
 *
 * Uses only the test-runner globals `describe`, `it`, `expect`, `beforeEach` and `afterEach`.
 */
export function describeMeshContract(name: string, factory: MeshContractFactory, options: MeshContractOptions = {}): void {
  const timeoutMs = options.deliveryTimeoutMs ?? 20_000;
  const quietMs = options.quietPeriodMs ?? 300;

  describe(`Mesh contract: ${name}`, () => {
    let mesh: Mesh;
    let subscriptions: MeshSubscription[] = [];

    beforeEach(async () => {
      mesh = await factory();
      subscriptions = [];
    });

    afterEach(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.stop()));
      await mesh.close();
    });

    const topic = async (partitions = 1, extra: { compacted?: boolean } = {}): Promise<string> => {
      const name = `contract-${randomBytes(5).toString('hex')}`;
      await mesh.ensureTopics([{ name, partitions, ...extra }]);
      return name;
    };
    const group = (): string => `contract-group-${randomBytes(5).toString('hex')}`;
    const collect = async (
      topics: string | string[],
      opts: Parameters<Mesh['subscribe']>[1],
      into: ReceivedMessage[] = [],
    ): Promise<{ received: ReceivedMessage[]; subscription: MeshSubscription }> => {
      const subscription = await mesh.subscribe(topics, opts, async (m) => {
        into.push(m);
      });
      subscriptions.push(subscription);
      return { received: into, subscription };
    };
    const until = (what: string, condition: () => boolean): Promise<void> => waitFor(what, condition, timeoutMs);

    it('delivers a published message with its key, value, headers, partition, offset and timestamp', async () => {
      const t = await topic(3);
      const { received } = await collect(t, group());
      const before = Date.now();
      await mesh.publish(t, [{ key: 'tenant-1', value: 'hello', headers: { [MESH_POSITION_HEADER]: '42', kind: 'greeting' } }]);

      await until('the message', () => received.length === 1);
      const [m] = received;
      expect(m).toMatchObject({ topic: t, key: 'tenant-1', headers: { [MESH_POSITION_HEADER]: '42', kind: 'greeting' } });
      expect(m.value).toEqual(Buffer.from('hello'));
      expect(m.partition).toBeGreaterThanOrEqual(0);
      expect(m.partition).toBeLessThan(3);
      expect(m.offset).toBe('0');
      expect(m.timestamp).toBeGreaterThanOrEqual(before - 1_000);
      expect(m.timestamp).toBeLessThanOrEqual(Date.now() + 1_000);
    });

    it('round-trips binary values and UTF-8 headers unchanged', async () => {
      const t = await topic();
      const { received } = await collect(t, group());
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const headers = { [MESH_POSITION_HEADER]: '9007199254740993', 'x-unicode': 'zürich ✓ 東京', 'x-empty': '' };
      await mesh.publish(t, [
        { key: 'k', value: binary, headers },
        { key: 'k', value: '' },
      ]);

      await until('both messages', () => received.length === 2);
      expect(received[0].value).toEqual(binary);
      expect(received[0].headers).toEqual(headers);
      expect(received[1].value).toEqual(Buffer.alloc(0));
      expect(received[1].headers).toEqual({});
    });

    it('keeps per-key order across 1,000 messages of several keys', async () => {
      const t = await topic(4);
      const { received } = await collect(t, group());
      const keys = Array.from({ length: 8 }, (_, i) => `tenant-${i}`);
      const sent = new Map(keys.map((k) => [k, 0]));
      let position = 0;
      for (let batch = 0; batch < 10; batch++) {
        const messages: MeshMessage[] = [];
        for (let i = 0; i < 100; i++) {
          const key = keys[(batch * 7 + i * 3 + (i % 5)) % keys.length];
          const seq = sent.get(key)!;
          sent.set(key, seq + 1);
          messages.push({ key, value: JSON.stringify({ seq }), headers: { [MESH_POSITION_HEADER]: String(++position) } });
        }
        await mesh.publish(t, messages);
      }

      const applied = new Map<string, number>();
      await until('all 1,000 messages', () => applyInOrder(received, applied) === 1_000);
      for (const key of keys) expect(applied.get(key)).toBe(sent.get(key)! - 1);
      const partitionOfKey = new Map<string, number>();
      for (const m of received) {
        expect(partitionOfKey.get(m.key!) ?? m.partition).toBe(m.partition);
        partitionOfKey.set(m.key!, m.partition);
      }
    });

    it('a group resumes after stop from where it left off, losing nothing', async () => {
      const t = await topic(2);
      const g = group();
      const first = await collect(t, g);
      await mesh.publish(t, positions(1, 30));
      await until('the first 30', () => first.received.length >= 30);
      await first.subscription.stop();

      await mesh.publish(t, positions(31, 60));
      const second = await collect(t, g);
      await until('the next 30', () => positionsOf(second.received).includes(60) && new Set(positionsOf(second.received)).size >= 30);

      const all = new Set([...positionsOf(first.received), ...positionsOf(second.received)]);
      expect([...all].sort((a, b) => a - b)).toEqual(range(1, 60));
      // Resumed, not replayed: what the first subscription handled was committed when it stopped.
      expect(Math.min(...positionsOf(second.received))).toBeGreaterThan(30);
    });

    it('fromBeginning replays what was published before the subscription, to every such subscriber', async () => {
      const t = await topic(2);
      await mesh.publish(t, positions(1, 20));

      const privateOne = await collect(t, { fromBeginning: true });
      const privateTwo = await collect(t, { fromBeginning: true });
      const newGroup = await collect(t, { groupId: group(), fromBeginning: true });
      for (const s of [privateOne, privateTwo, newGroup]) {
        await until('all 20 replayed', () => s.received.length >= 20);
        expect(positionsOf(s.received).sort((a, b) => a - b)).toEqual(range(1, 20));
      }
    });

    it('a new group without fromBeginning starts at the end, and gets everything published after subscribe resolves', async () => {
      const t = await topic(2);
      await mesh.publish(t, positions(1, 10));
      const { received } = await collect(t, group());
      await mesh.publish(t, positions(11, 15));

      await until('the 5 new messages', () => received.length >= 5);
      await sleep(quietMs);
      expect(positionsOf(received).sort((a, b) => a - b)).toEqual(range(11, 15));
    });

    it('a compacted topic read from the beginning yields at least the latest value of every key, in key order', async () => {
      const t = await topic(2, { compacted: true });
      const keys = ['a', 'b', 'c', 'd', 'e'];
      for (let round = 1; round <= 4; round++) {
        await mesh.publish(t, keys.map((key) => ({ key, value: `${key}-v${round}` })));
      }

      const { received } = await collect(t, { fromBeginning: true });
      await until('the latest value of every key', () => keys.every((k) => received.some((m) => m.value.toString() === `${k}-v4`)));
      for (const key of keys) {
        const seen = received.filter((m) => m.key === key).map((m) => Number(m.value.toString().split('-v')[1]));
        expect(seen[seen.length - 1]).toBe(4);
        expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      }
    });

    it('a handler that throws gets the same message again, before any later message of its partition', async () => {
      const t = await topic();
      const calls: number[] = [];
      let failed = false;
      subscriptions.push(
        await mesh.subscribe(t, group(), async (m) => {
          const p = Number(m.headers[MESH_POSITION_HEADER]);
          calls.push(p);
          if (p === 1 && !failed) {
            failed = true;
            throw new Error('transient handler failure (expected by the test)');
          }
        }),
      );
      await mesh.publish(t, positions(1, 3));

      await until('the retried message and the rest', () => calls.includes(3));
      expect(calls).toEqual([1, 1, 2, 3]);
    });

    it('stop ends delivery to that subscription', async () => {
      const t = await topic();
      const { received, subscription } = await collect(t, group());
      await mesh.publish(t, positions(1, 1));
      await until('the first message', () => received.length === 1);
      await subscription.stop();

      await mesh.publish(t, positions(2, 5));
      await sleep(quietMs);
      expect(positionsOf(received)).toEqual([1]);
    });

    it('members of one group share partitions and together receive every message', async () => {
      const t = await topic(4);
      const g = group();
      const one = await collect(t, g);
      const two = await collect(t, g);
      const messages = Array.from({ length: 200 }, (_, i) => ({
        key: `tenant-${i % 16}`,
        value: 'x',
        headers: { [MESH_POSITION_HEADER]: String(i + 1) },
      }));
      await mesh.publish(t, messages);

      await until('all 200 between the two', () => new Set([...positionsOf(one.received), ...positionsOf(two.received)]).size === 200);
      expect(one.received.length).toBeGreaterThan(0);
      expect(two.received.length).toBeGreaterThan(0);
      const partitionsOne = new Set(one.received.map((m) => m.partition));
      for (const m of two.received) expect(partitionsOne.has(m.partition)).toBe(false);
    });

    it('rejects publishing to, and subscribing to, a topic that does not exist', async () => {
      const missing = `contract-missing-${randomBytes(5).toString('hex')}`;
      await expect(mesh.publish(missing, positions(1, 1))).rejects.toBeInstanceOf(MeshUnknownTopicError);
      await expect(mesh.subscribe(missing, group(), async () => undefined)).rejects.toBeInstanceOf(MeshUnknownTopicError);
    });

    it('ensureTopics is idempotent and refuses to change a partition count', async () => {
      const t = await topic(3);
      await expect(mesh.ensureTopics([{ name: t, partitions: 3 }])).resolves.toBeUndefined();
      await expect(mesh.ensureTopics([{ name: t, partitions: 5 }])).rejects.toThrow(/3 partitions, not 5/);
    });
  });
}

/**
 * The consumer discipline the port asks for: per key, drop what is at or below the last applied sequence, and
 * fail on a gap (a later message before an earlier one is an order violation). Returns how many were applied.
 */
function applyInOrder(received: readonly ReceivedMessage[], applied: Map<string, number>): number {
  applied.clear();
  let count = 0;
  for (const m of received) {
    const { seq } = JSON.parse(m.value.toString()) as { seq: number };
    const last = applied.get(m.key!) ?? -1;
    if (seq <= last) continue;
    if (seq !== last + 1) throw new Error(`key ${m.key}: got seq ${seq} after ${last}: per-key order violated`);
    applied.set(m.key!, seq);
    count++;
  }
  return count;
}

function positions(from: number, to: number): MeshMessage[] {
  return range(from, to).map((p) => ({ key: `tenant-${p % 7}`, value: `m${p}`, headers: { [MESH_POSITION_HEADER]: String(p) } }));
}

function positionsOf(received: readonly ReceivedMessage[]): number[] {
  return received.map((m) => Number(m.headers[MESH_POSITION_HEADER]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
