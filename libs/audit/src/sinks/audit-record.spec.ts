import { eventDisplayName, parsePosition, streamCategory } from './audit-record';

describe('audit record helpers', () => {
  it('parses positions as integers, so 10 sorts after 9', () => {
    expect(parsePosition('10') > parsePosition('9')).toBe(true);
    expect(parsePosition('18446744073709551615')).toBe(18446744073709551615n);
    for (const bad of ['', '-1', '01', '1.5', ' 1', 'x']) expect(() => parsePosition(bad)).toThrow(RangeError);
  });

  it('names streams and event types for people', () => {
    expect(streamCategory('keylink-0f7c-11')).toBe('keylink');
    expect(streamCategory('plain')).toBe('plain');
    expect(eventDisplayName('KeyLinkRevoked')).toBe('Key link revoked');
    expect(eventDisplayName('HSMKeyImported')).toBe('HSM key imported');
  });
});
