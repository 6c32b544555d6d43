import type { HeartbeatMessage } from '@cmk/orbital';

/** Monotonic milliseconds: staleness must not jump with the wall clock (NTP steps, manual changes). */
export type MonotonicClock = () => number;
export const monotonicNow: MonotonicClock = () => performance.now();

/**
 * When this worker last heard the bridge, on its own monotonic clock. The bridge's `sentAt` is not used for
 * staleness: it is another machine's wall clock. Heartbeats of an older bridge epoch (a bridge instance that
 * was replaced) are ignored, so a zombie bridge cannot keep a cut-off worker believing it is current.
 */
export class HeartbeatClock {
  private heardAt = -Infinity;
  private epoch = -Infinity;
  private bridgePosition = '';

  constructor(private readonly now: MonotonicClock = monotonicNow) {}

  /** -Infinity until the first heartbeat. */
  get lastHeartbeatAt(): number {
    return this.heardAt;
  }

  get position(): string {
    return this.bridgePosition;
  }

  /** True when the heartbeat counted. */
  heard(message: HeartbeatMessage): boolean {
    if (!Number.isInteger(message.epoch) || message.epoch < this.epoch) return false;
    this.epoch = message.epoch;
    this.heardAt = this.now();
    this.bridgePosition = message.position;
    return true;
  }

  /** Milliseconds since the last heartbeat (Infinity before the first). */
  silenceMs(): number {
    return this.now() - this.heardAt;
  }
}
