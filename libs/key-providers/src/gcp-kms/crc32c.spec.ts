import { crc32c, int64Value } from './crc32c';

describe('crc32c', () => {
  // RFC 3720 (iSCSI) appendix B.4 test vectors and the common check value of CRC-32C.
  it.each([
    ['32 zero bytes', Buffer.alloc(32), 0x8a9136aa],
    ['32 0xff bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['32 incrementing bytes', Buffer.from(Array.from({ length: 32 }, (_v, i) => i)), 0x46dd794e],
    ['32 decrementing bytes', Buffer.from(Array.from({ length: 32 }, (_v, i) => 31 - i)), 0x113fdb5c],
    ['"123456789"', Buffer.from('123456789'), 0xe3069283],
    ['nothing', Buffer.alloc(0), 0],
  ])('matches the published value for %s', (_name, data, expected) => {
    expect(crc32c(data)).toBe(expected);
  });

  it('reads Int64Value checksums in every shape the client library uses', () => {
    expect(int64Value({ value: 3808858755 })).toBe(3808858755);
    expect(int64Value({ value: '3808858755' })).toBe(3808858755);
    expect(int64Value({ value: { toString: () => '42' } })).toBe(42);
    expect(int64Value({})).toBe(0);
    expect(int64Value(null)).toBeUndefined();
    expect(int64Value(undefined)).toBeUndefined();
    expect(int64Value({ value: '-1' })).toBeUndefined();
  });
});
