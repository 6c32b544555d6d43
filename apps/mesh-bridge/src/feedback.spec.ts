import { AckMessage, encodeMessage, UsageMessage } from '@cmk/orbital';
import { ackCommandId, InvalidFeedbackError, parseAck, parseUsage, usageCommandId } from './feedback';

const ack: AckMessage = {
  kind: 'revocation-enforced',
  workerId: 'w1',
  region: 'eu-central-1',
  tenantId: 't1',
  keyLinkId: 'k1',
  cause: 'KeyLinkRevoked',
  revocationPosition: '42',
  enforcedAt: '2030-01-01T00:00:00.000Z',
};
const usage: UsageMessage = {
  kind: 'usage',
  workerId: 'w1',
  region: 'eu-central-1',
  reportId: 'r1',
  windowStart: '2030-01-01T00:00:00.000Z',
  windowEnd: '2030-01-01T00:01:00.000Z',
  counts: [{ tenantId: 't1', systemId: 's1', operation: 'wrap', outcome: 'denied', count: 0 }],
};

describe('feedback parsing', () => {
  it('accepts well-formed acks and usage reports', () => {
    expect(parseAck(encodeMessage(ack))).toEqual(ack);
    const { keyLinkId: _k, ...tenantWide } = { ...ack, cause: 'TenantSuspended' as const };
    expect(parseAck(encodeMessage(tenantWide))).toEqual(tenantWide);
    expect(parseUsage(encodeMessage(usage))).toEqual(usage);
    expect(parseUsage(encodeMessage({ ...usage, counts: [] }))).toEqual({ ...usage, counts: [] });
  });

  it.each([
    ['workerId', { workerId: '' }],
    ['tenantId', { tenantId: 7 }],
    ['cause', { cause: 'KeyLinkActivated' }],
    ['revocationPosition', { revocationPosition: '0' }],
    ['revocationPosition', { revocationPosition: '-1' }],
    ['revocationPosition', { revocationPosition: 42 }],
    ['enforcedAt', { enforcedAt: 'yesterday' }],
    ['keyLinkId', { keyLinkId: '' }],
  ])('refuses an ack with a bad %s', (field, override) => {
    expect(() => parseAck(encodeMessage({ ...ack, ...override } as AckMessage))).toThrow(new InvalidFeedbackError(`ack field ${field} is missing or malformed`));
  });

  it.each([
    ['reportId', { reportId: undefined }],
    ['windowEnd', { windowEnd: '' }],
    ['counts', { counts: 'many' }],
    ['counts[0]', { counts: [{ ...usage.counts[0], operation: 'sign' }] }],
    ['counts[0].count', { counts: [{ ...usage.counts[0], count: 1.5 }] }],
  ])('refuses a usage report with a bad %s', (field, override) => {
    expect(() => parseUsage(encodeMessage({ ...usage, ...override } as UsageMessage))).toThrow(`usage field ${field} is missing or malformed`);
  });

  it('refuses other kinds and non-JSON', () => {
    expect(() => parseAck(encodeMessage(usage))).toThrow('expected a revocation-enforced message, got usage');
    expect(() => parseUsage(Buffer.from('{'))).toThrow('message is not JSON');
  });

  it('derives idempotency keys per worker', () => {
    expect(ackCommandId(ack)).toBe('ack:w1:42');
    expect(usageCommandId(usage)).toBe('usage:w1:r1');
    expect(usageCommandId({ ...usage, workerId: 'w2' })).not.toBe(usageCommandId(usage));
  });
});
