import { AccessDenialsMessage, encodeMessage } from '@cmk/orbital';
import { accessDenialEvents, accessDenialsCommandId, parseAccessDenials } from './access-denials';
import { InvalidFeedbackError } from './feedback';

const report: AccessDenialsMessage = {
  kind: 'access-denials',
  workerId: 'w1',
  region: 'eu-central-1',
  reportId: 'w1/abc/0',
  windowStart: '2026-11-29T23:59:30.000Z',
  windowEnd: '2026-11-30T00:00:30.000Z',
  denials: [
    { at: '2026-11-29T23:59:40.000Z', tenantId: 't1', systemId: 's1', operation: 'unwrap', keyLinkId: 'k1', reason: 'key-link-revoked', subject: 'system:s1' },
    { at: '2026-11-30T00:00:10.000Z', tenantId: 't1', systemId: 's1', operation: 'wrap', reason: 'region-not-allowed', subject: 'system:s1' },
    { at: '2026-11-29T23:59:50.000Z', operation: 'generate-data-key', reason: 'expired' },
  ],
  suppressed: [{ tenantId: 't1', systemId: 's1', reason: 'key-link-revoked', count: 250 }],
};

describe('access-denial reports', () => {
  it('accepts a well-formed report', () => {
    expect(parseAccessDenials(encodeMessage(report))).toEqual(report);
    expect(parseAccessDenials(encodeMessage({ ...report, denials: [], suppressed: [] }))).toMatchObject({ denials: [], suppressed: [] });
  });

  it.each([
    ['workerId', { workerId: '' }],
    ['reportId', { reportId: 'has space' }],
    ['windowEnd', { windowEnd: 'soon' }],
    ['denials', { denials: 'many' }],
    ['suppressed', { suppressed: undefined }],
    ['denials[0]', { denials: [{ ...report.denials[0], reason: 'felt-like-it' }] }],
    ['denials[0]', { denials: [{ ...report.denials[0], operation: 'sign' }] }],
    ['denials[0]', { denials: [{ ...report.denials[0], at: 'yesterday' }] }],
    // A system without a tenant, or a subject without a tenant, can only come from an unverified token.
    ['denials[0]', { denials: [{ at: report.denials[0].at, systemId: 's1', operation: 'unwrap', reason: 'expired' }] }],
    ['denials[0].subject', { denials: [{ at: report.denials[0].at, subject: 'mallory', operation: 'unwrap', reason: 'expired' }] }],
    ['suppressed[0].count', { suppressed: [{ ...report.suppressed[0], count: 0 }] }],
    ['suppressed[0]', { suppressed: [{ ...report.suppressed[0], tenantId: 'two\nlines' }] }],
  ])('refuses a report with a bad %s', (field, override) => {
    expect(() => parseAccessDenials(encodeMessage({ ...report, ...override } as AccessDenialsMessage))).toThrow(
      new InvalidFeedbackError(`access-denials field ${field} is missing or malformed`),
    );
  });

  it('refuses other kinds', () => {
    expect(() => parseAccessDenials(Buffer.from(JSON.stringify({ ...report, kind: 'usage' })))).toThrow('expected a access-denials message, got usage');
  });

  it("puts each denial in its tenant's stream of its day, refusals without a tenant in the day's platform stream", () => {
    const streams = accessDenialEvents(report);
    expect([...streams.keys()]).toEqual(['workerdenied-20261129-t1', 'workerdenied-20261130-t1', 'workerdenied-20261129']);
    expect(streams.get('workerdenied-20261129-t1')).toEqual([
      {
        type: 'WorkerAccessDenied',
        data: { at: '2026-11-29T23:59:40.000Z', tenantId: 't1', systemId: 's1', operation: 'unwrap', keyLinkId: 'k1', reason: 'key-link-revoked', subject: 'system:s1', workerId: 'w1', region: 'eu-central-1', reportId: 'w1/abc/0' },
      },
      {
        type: 'WorkerAccessDeniedSuppressed',
        data: { tenantId: 't1', systemId: 's1', reason: 'key-link-revoked', count: 250, window: { from: report.windowStart, to: report.windowEnd }, workerId: 'w1', region: 'eu-central-1', reportId: 'w1/abc/0' },
      },
    ]);
    expect(streams.get('workerdenied-20261129')).toEqual([
      { type: 'WorkerAccessDenied', data: { at: '2026-11-29T23:59:50.000Z', operation: 'generate-data-key', reason: 'expired', workerId: 'w1', region: 'eu-central-1', reportId: 'w1/abc/0' } },
    ]);
  });

  it('records only the fields of the contract', () => {
    const extra = { ...report, token: 'eyJ.secret.sig', denials: [{ ...report.denials[2], authorization: 'Bearer eyJ.secret.sig' }] };
    const text = JSON.stringify([...accessDenialEvents(parseAccessDenials(encodeMessage(extra as AccessDenialsMessage))).values()]);
    expect(text).not.toContain('secret');
  });

  it('derives one command id per worker, report and stream', () => {
    expect(accessDenialsCommandId(report, 'workerdenied-20261129-t1')).toBe('denials:w1:w1/abc/0:workerdenied-20261129-t1');
    expect(accessDenialsCommandId({ ...report, workerId: 'w2' }, 's')).not.toBe(accessDenialsCommandId(report, 's'));
    expect(accessDenialsCommandId(report, 'a')).not.toBe(accessDenialsCommandId(report, 'b'));
  });
});
