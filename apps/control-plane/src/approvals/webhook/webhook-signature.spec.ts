import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from './webhook-signature';

describe('approval webhook signature', () => {
  const at = new Date('2026-03-01T10:00:00Z');
  const body = JSON.stringify({ type: 'approval.requested', approvalId: 'a-1' });

  it('signs "<t>.<body>" with HMAC-SHA256 (known answer) and verifies it', () => {
    const header = signWebhook('whsec', body, at);
    expect(header).toMatch(/^t=1772359200,v1=[0-9a-f]{64}$/);
    expect(header.split('v1=')[1]).toBe(createHmac('sha256', 'whsec').update(`1772359200.${body}`).digest('hex'));
    expect(verifyWebhook(header, body, 'whsec', at)).toBe(true);
  });

  it('refuses another secret, a changed body, a moved timestamp, an old signature and garbage', () => {
    const header = signWebhook('whsec', body, at);
    expect(verifyWebhook(header, body, 'other', at)).toBe(false);
    expect(verifyWebhook(header, body.replace('a-1', 'a-2'), 'whsec', at)).toBe(false);
    expect(verifyWebhook(header.replace('t=1772359200', 't=1772359201'), body, 'whsec', at)).toBe(false);
    expect(verifyWebhook(header, body, 'whsec', new Date(at.getTime() + 301_000))).toBe(false);
    expect(verifyWebhook('nonsense', body, 'whsec', at)).toBe(false);
    expect(verifyWebhook(undefined, body, 'whsec', at)).toBe(false);
  });
});
