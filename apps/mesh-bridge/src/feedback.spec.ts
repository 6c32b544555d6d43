import { randomBytes } from 'node:crypto';
import { AckMessage, encodeMessage, TenantKeyGeneratedMessage, TenantKeyRewrappedMessage, UsageMessage } from '@cmk/orbital';
import { ackCommandId, InvalidFeedbackError, parseAck, parseTenantKey, parseUsage, tenantKeyCommandId, usageCommandId } from './feedback';

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

describe('tenant-key reports', () => {
  const generated: TenantKeyGeneratedMessage = {
    kind: 'tenant-key-generated',
    workerId: 'w1',
    region: 'eu-central-1',
    tenantId: 't1',
    keyLinkId: 'k1',
    l2Id: 'ab'.repeat(16),
    l2Version: 1,
    wrappedL2: randomBytes(60).toString('base64'),
    l2Fingerprint: 'kcv:0a1b2c',
  };
  const rewrapped: TenantKeyRewrappedMessage = {
    kind: 'tenant-key-rewrapped',
    workerId: 'w2',
    region: 'eu-west-1',
    tenantId: 't1',
    keyLinkId: 'k1',
    l2Id: 'ab'.repeat(16),
    wrappedL2: randomBytes(60).toString('base64'),
    l1KeyVersion: 'v2',
  };

  it('accepts well-formed registrations and re-wraps', () => {
    expect(parseTenantKey(encodeMessage(generated))).toEqual(generated);
    expect(parseTenantKey(encodeMessage({ ...generated, l1KeyVersion: 'v1' }))).toEqual({ ...generated, l1KeyVersion: 'v1' });
    expect(parseTenantKey(encodeMessage(rewrapped))).toEqual(rewrapped);
  });

  it.each([
    ['l2Id', { l2Id: 'AB'.repeat(16) }],
    ['l2Id', { l2Id: 'ab' }],
    ['l2Version', { l2Version: 0 }],
    ['l2Version', { l2Version: '1' }],
    ['l2Fingerprint', { l2Fingerprint: 'sha256:00' }],
    ['keyLinkId', { keyLinkId: '' }],
    ['wrappedL2', { wrappedL2: 'not base64!' }],
    // A bare 32-byte key is not a wrapped one: it must never reach the audit log.
    ['wrappedL2', { wrappedL2: randomBytes(32).toString('base64') }],
  ])('refuses a registration with a bad %s', (field, override) => {
    expect(() => parseTenantKey(encodeMessage({ ...generated, ...override } as TenantKeyGeneratedMessage))).toThrow(new InvalidFeedbackError(`tenant-key field ${field} is missing or malformed`));
  });

  it('refuses a re-wrap without the L1 version it was made under, and other kinds', () => {
    expect(() => parseTenantKey(encodeMessage({ ...rewrapped, l1KeyVersion: '' }))).toThrow('tenant-key field l1KeyVersion is missing or malformed');
    expect(() => parseTenantKey(encodeMessage(usage))).toThrow('expected a tenant-key message, got usage');
  });

  it('one registration per link and version, one re-wrap per L2 key and L1 version, whoever reports it', () => {
    expect(tenantKeyCommandId(generated)).toBe(tenantKeyCommandId({ ...generated, workerId: 'w9', l2Id: 'cd'.repeat(16) }));
    expect(tenantKeyCommandId({ ...generated, l2Version: 2 })).not.toBe(tenantKeyCommandId(generated));
    expect(tenantKeyCommandId(rewrapped)).toBe(tenantKeyCommandId({ ...rewrapped, workerId: 'w1', wrappedL2: generated.wrappedL2 }));
    expect(tenantKeyCommandId({ ...rewrapped, l1KeyVersion: 'v3' })).not.toBe(tenantKeyCommandId(rewrapped));
  });
});
