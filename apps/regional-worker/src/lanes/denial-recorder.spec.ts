import { DenialInput, DenialRecorder } from './denial-recorder';

const T0 = new Date('2026-11-29T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

function recorder(detailLimit: number, maxPerMessage?: number) {
  let now = T0;
  const r = new DenialRecorder({ workerId: 'w1', region: 'eu-central-1', detailLimit, maxPerMessage, wallNow: () => now });
  return { r, tick: (s: number) => (now = at(s)) };
}

const denied = (over: Partial<DenialInput> = {}): DenialInput => ({ operation: 'unwrap', reason: 'key-link-revoked', tenantId: 't1', systemId: 's1', subject: 'system:s1', keyLinkId: 'k1', ...over });

describe('DenialRecorder', () => {
  it('keeps each denial with its time, tenant, system, link, reason and subject, and closes the window into a report', () => {
    const { r, tick } = recorder(10);
    tick(1);
    r.record(denied());
    tick(2);
    r.record({ operation: 'wrap', reason: 'bad-signature' });
    tick(60);
    const [report, ...more] = r.cut();
    expect(more).toEqual([]);
    expect(report).toEqual({
      kind: 'access-denials',
      workerId: 'w1',
      region: 'eu-central-1',
      reportId: expect.stringMatching(/^w1\/[0-9a-f-]{36}\/0$/),
      windowStart: T0.toISOString(),
      windowEnd: at(60).toISOString(),
      denials: [
        { at: at(1).toISOString(), tenantId: 't1', systemId: 's1', operation: 'unwrap', keyLinkId: 'k1', reason: 'key-link-revoked', subject: 'system:s1' },
        { at: at(2).toISOString(), operation: 'wrap', reason: 'bad-signature' },
      ],
      suppressed: [],
    });
    expect(r.cut()).toEqual([]);
  });

  it('keeps at most the limit per (tenant, reason) and counts the rest per (tenant, system, reason)', () => {
    const { r } = recorder(3);
    for (let i = 0; i < 10; i++) r.record(denied({ systemId: i % 2 ? 's1' : 's2' }));
    for (let i = 0; i < 2; i++) r.record(denied({ reason: 'unknown-system' }));
    for (let i = 0; i < 5; i++) r.record(denied({ tenantId: 't2', systemId: 's9' }));
    for (let i = 0; i < 4; i++) r.record({ operation: 'unwrap', reason: 'expired' });
    const [report] = r.cut();
    const kept = (tenantId: string | undefined, reason: string) => report.denials.filter((d) => d.tenantId === tenantId && d.reason === reason).length;
    expect(kept('t1', 'key-link-revoked')).toBe(3);
    expect(kept('t1', 'unknown-system')).toBe(2);
    expect(kept('t2', 'key-link-revoked')).toBe(3);
    expect(kept(undefined, 'expired')).toBe(3);
    expect(report.suppressed).toEqual([
      // 10 denials of t1 alternating s2, s1: s2, s1, s2 kept; then 4 of s1 and 3 of s2 counted.
      { tenantId: 't1', systemId: 's1', reason: 'key-link-revoked', count: 4 },
      { tenantId: 't1', systemId: 's2', reason: 'key-link-revoked', count: 3 },
      { tenantId: 't2', systemId: 's9', reason: 'key-link-revoked', count: 2 },
      { reason: 'expired', count: 1 },
    ]);
    expect(r.suppressedTotal).toBe(10);
    // A new window starts with a fresh allowance.
    r.record(denied());
    expect(r.cut()[0]).toMatchObject({ denials: [expect.objectContaining({ tenantId: 't1' })], suppressed: [] });
  });

  it('stays bounded under a flood: memory and report size do not grow with the number of denials', () => {
    const { r } = recorder(100);
    for (let i = 0; i < 200_000; i++) r.record(denied());
    const reports = r.cut();
    expect(reports).toHaveLength(1);
    expect(reports[0].denials).toHaveLength(100);
    expect(reports[0].suppressed).toEqual([{ tenantId: 't1', systemId: 's1', reason: 'key-link-revoked', count: 199_900 }]);
  });

  it('splits a busy window into reports of at most maxPerMessage records, each with its own id', () => {
    const { r } = recorder(2, 3);
    for (const t of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) r.record(denied({ tenantId: t }));
    const reports = r.cut();
    expect(reports.map((m) => m.denials.length + m.suppressed.length)).toEqual([3, 3, 3]);
    expect(new Set(reports.map((m) => m.reportId)).size).toBe(3);
    expect(new Set(reports.map((m) => m.windowStart)).size).toBe(1);
    expect(reports.flatMap((m) => m.denials)).toHaveLength(6);
    expect(reports.flatMap((m) => m.suppressed).map((s) => [s.tenantId, s.count])).toEqual([['a', 1], ['b', 1], ['c', 1]]);
  });

  it('with a limit of 0 only counts', () => {
    const { r } = recorder(0);
    r.record(denied());
    expect(r.cut()[0]).toMatchObject({ denials: [], suppressed: [{ tenantId: 't1', count: 1 }] });
    expect(() => recorder(-1)).toThrow(RangeError);
  });

  it('copies only the fields it knows: a token or header a caller passes along never reaches the report', () => {
    const { r } = recorder(5);
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl';
    r.record({ ...denied(), authorization: `Bearer ${token}`, token } as DenialInput);
    r.record({ operation: 'unwrap', reason: 'malformed', token } as DenialInput);
    const text = JSON.stringify(r.cut());
    expect(text).not.toContain(token);
    expect(text).not.toContain('authorization');
  });
});
