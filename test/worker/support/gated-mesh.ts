import type { Mesh, MeshHandler, MeshMessage, MeshSubscription, MeshTopic, SubscribeOptions } from '@cmk/mesh';

/**
 * A Mesh wrapper that can hold deliveries: `hold(topic)` makes handlers of subscriptions to that topic wait
 * until `release(topic)`; `pause()` holds every topic (the worker cut off from the mesh). Publishing passes
 * straight through, unless `cut()` also makes it fail. For tests that must see a worker before it caught up, or cut off.
 */
export class GatedMesh implements Mesh {
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();

  constructor(private readonly inner: Mesh) {}

  hold(topic: string): void {
    if (this.gates.has(topic)) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gates.set(topic, { promise, open });
  }

  release(topic: string): void {
    this.gates.get(topic)?.open();
    this.gates.delete(topic);
  }

  pause(): void {
    this.hold('*');
  }

  resume(): void {
    this.release('*');
  }

  /** Publishing fails too while cut (a worker partitioned from the broker in both directions). */
  cut(): void {
    this.pause();
    this.publishCut = true;
  }

  reconnect(): void {
    this.publishCut = false;
    this.resume();
  }

  private publishCut = false;

  publish(topic: string, messages: readonly MeshMessage[]): Promise<void> {
    if (this.publishCut) return Promise.reject(new Error('mesh unreachable (cut by the test)'));
    return this.inner.publish(topic, messages);
  }

  subscribe(topics: string | readonly string[], options: string | SubscribeOptions, handler: MeshHandler): Promise<MeshSubscription> {
    return this.inner.subscribe(topics, options, async (message) => {
      for (;;) {
        const gate = this.gates.get(message.topic) ?? this.gates.get('*');
        if (!gate) return handler(message);
        await gate.promise;
      }
    });
  }

  ensureTopics(topics: readonly MeshTopic[]): Promise<void> {
    return this.inner.ensureTopics(topics);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
