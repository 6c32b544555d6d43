import { HeartbeatClock } from './heartbeat-clock';

describe('HeartbeatClock', () => {
  const beat = (epoch: number, position = '1') => ({ kind: 'heartbeat' as const, epoch, position, sentAt: '1970-01-01T00:00:00Z' });

  it('reports silence on its own clock, infinite before the first heartbeat', () => {
    let now = 1000;
    const clock = new HeartbeatClock(() => now);
    expect(clock.silenceMs()).toBe(Infinity);
    expect(clock.heard(beat(1))).toBe(true);
    now = 1250;
    expect(clock.silenceMs()).toBe(250);
    expect(clock.lastHeartbeatAt).toBe(1000);
  });

  it('ignores heartbeats of an older bridge epoch', () => {
    let now = 0;
    const clock = new HeartbeatClock(() => now);
    clock.heard(beat(3, '10'));
    now = 500;
    expect(clock.heard(beat(2, '11'))).toBe(false);
    expect(clock.lastHeartbeatAt).toBe(0);
    expect(clock.position).toBe('10');
    expect(clock.heard(beat(3, '12'))).toBe(true);
    expect(clock.lastHeartbeatAt).toBe(500);
  });
});
