import { randomBytes } from 'node:crypto';
import { BlobAuthenticationError, encodeHeader, l1Aad, MalformedBlobError, open, parseBlob, seal } from './envelope';

describe('blob envelope', () => {
  const l2 = randomBytes(32);
  const header = encodeHeader({ keyLinkId: 'link-1', l2Id: randomBytes(16), wrappedL2: randomBytes(60) });
  const dataKey = randomBytes(32);

  it('round-trips and names its key link and L2 key', () => {
    const blob = seal(l2, header, 'tenant-a', 'system-a', dataKey);
    const parsed = parseBlob(blob);
    expect(parsed.keyLinkId).toBe('link-1');
    expect(parsed.header.equals(header)).toBe(true);
    expect(open(l2, parsed, 'tenant-a', 'system-a').equals(dataKey)).toBe(true);
  });

  it('is randomised: the same data key seals differently each time', () => {
    expect(seal(l2, header, 't', 's', dataKey).equals(seal(l2, header, 't', 's', dataKey))).toBe(false);
  });

  it.each([
    ['another tenant', (b: Buffer) => open(l2, parseBlob(b), 'tenant-b', 'system-a')],
    ['another system', (b: Buffer) => open(l2, parseBlob(b), 'tenant-a', 'system-b')],
    ['another L2 key', (b: Buffer) => open(randomBytes(32), parseBlob(b), 'tenant-a', 'system-a')],
    ['a changed header byte', (b: Buffer) => { b[10] ^= 1; return open(l2, parseBlob(b), 'tenant-a', 'system-a'); }],
    ['a changed ciphertext byte', (b: Buffer) => { b[b.length - 20] ^= 1; return open(l2, parseBlob(b), 'tenant-a', 'system-a'); }],
  ])('does not open for %s', (_name, attempt) => {
    expect(() => attempt(seal(l2, header, 'tenant-a', 'system-a', dataKey))).toThrow(BlobAuthenticationError);
  });

  it('rejects truncated or unknown blobs as malformed', () => {
    const blob = seal(l2, header, 't', 's', dataKey);
    expect(() => parseBlob(Buffer.alloc(0))).toThrow(MalformedBlobError);
    expect(() => parseBlob(Buffer.concat([Buffer.from([2]), blob.subarray(1)]))).toThrow('unknown version 2');
    expect(() => parseBlob(blob.subarray(0, header.length + 20))).toThrow('truncated body');
    expect(() => parseBlob(blob.subarray(0, 10))).toThrow('truncated header');
  });

  it('binds the L1 wrap to tenant, link and L2 id without ambiguity', () => {
    const id = randomBytes(16);
    expect(l1Aad('ab', 'c', id).equals(l1Aad('a', 'bc', id))).toBe(false);
  });
});
