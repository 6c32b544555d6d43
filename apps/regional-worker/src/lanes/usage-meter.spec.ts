import { UsageMeter } from './usage-meter';

describe('UsageMeter', () => {
  it('counts per tenant, system, operation and outcome, and cuts windows back to back', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const meter = new UsageMeter('w1', 'eu-central-1', () => now);
    meter.record('t1', 's1', 'wrap', 'allowed');
    meter.record('t1', 's1', 'wrap', 'allowed');
    meter.record('t1', 's1', 'wrap', 'denied');
    meter.record('t1', 's2', 'unwrap', 'allowed');
    now = new Date('2026-01-01T00:01:00Z');
    const report = meter.cut()!;
    expect(report).toMatchObject({ kind: 'usage', workerId: 'w1', region: 'eu-central-1', windowStart: '2026-01-01T00:00:00.000Z', windowEnd: '2026-01-01T00:01:00.000Z' });
    expect(report.counts).toEqual([
      { tenantId: 't1', systemId: 's1', operation: 'wrap', outcome: 'allowed', count: 2 },
      { tenantId: 't1', systemId: 's1', operation: 'wrap', outcome: 'denied', count: 1 },
      { tenantId: 't1', systemId: 's2', operation: 'unwrap', outcome: 'allowed', count: 1 },
    ]);
    meter.record('t1', 's1', 'generate-data-key', 'allowed');
    now = new Date('2026-01-01T00:02:00Z');
    const next = meter.cut()!;
    expect(next.windowStart).toBe(report.windowEnd);
    expect(next.reportId).not.toBe(report.reportId);
  });

  it('reports nothing for an empty window', () => {
    expect(new UsageMeter('w1', 'r').cut()).toBeUndefined();
  });
});
