/**
 * The outbox's drop-oldest bound, against a mesh double whose publishes are held open or refused on demand (the
 * in-process mesh acknowledges at once, so it cannot show a publish in flight).
 */
import pino from 'pino';
import type { Mesh, MeshMessage } from '@cmk/mesh';
import { Outbox } from './outbox';

class HeldMesh {
  readonly published: string[] = [];
  down = false;
  private release: (() => void) | undefined;
  hold = false;
  publish(_topic: string, messages: readonly MeshMessage[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('broker unavailable'));
    const land = () => void this.published.push(...messages.map((m) => String(m.value)));
    if (!this.hold) return Promise.resolve(land());
    return new Promise((resolve) => (this.release = () => resolve(land())));
  }
  open(): void {
    this.hold = false;
    this.release?.();
  }
}

const msg = (n: number): MeshMessage => ({ key: 'w', value: Buffer.from(`m${n}`) });
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('Outbox bound', () => {
  it('drops the oldest message not in flight, and reports each drop', async () => {
    const mesh = new HeldMesh();
    mesh.hold = true;
    const dropped: string[] = [];
    const outbox = new Outbox(mesh as unknown as Mesh, 't', pino({ level: 'silent' }), { capacity: 3, onDropped: (m) => dropped.push(String(m.value)) });
    outbox.push(msg(1)); // in flight from here on
    await new Promise((r) => setImmediate(r));
    for (const n of [2, 3, 4, 5]) outbox.push(msg(n));
    expect(dropped).toEqual(['m2', 'm3']);
    mesh.open();
    await until(() => outbox.pending === 0);
    // What was in flight landed, nothing dropped was sent, nothing kept was lost.
    expect(mesh.published).toEqual(['m1', 'm4', 'm5']);
    await outbox.close(100);
  });

  it('while the mesh refuses, drops the oldest and publishes the rest once it is back', async () => {
    const mesh = new HeldMesh();
    mesh.down = true;
    const dropped: string[] = [];
    const outbox = new Outbox(mesh as unknown as Mesh, 't', pino({ level: 'silent' }), { capacity: 2, maxBackoffMs: 20, onDropped: (m) => dropped.push(String(m.value)) });
    for (const n of [1, 2, 3, 4]) outbox.push(msg(n));
    await new Promise((r) => setTimeout(r, 50));
    for (const n of [5]) outbox.push(msg(n));
    // m1 was in flight (its refusal not yet back) when m3 and m4 came; once refused it is the oldest to go.
    expect(dropped).toEqual(['m2', 'm3', 'm1']);
    mesh.down = false;
    await until(() => outbox.pending === 0);
    expect(mesh.published).toEqual(['m4', 'm5']);
    await outbox.close(100);
  });
});
