import { randomBytes } from 'node:crypto';
import { BlobAuthenticationError, encodeHeader, encodeLegacyHeader, l1Aad, l2Fingerprint, MalformedBlobError, open, parseBlob, seal } from './envelope';

describe('blob envelope', () => {
  const l2 = randomBytes(32);
  const l2Id = randomBytes(16);
  const header = encodeHeader({ keyLinkId: 'link-1', l2Id });
  const dataKey = randomBytes(32);

  it('version 2 round-trips and names its key link and L2 key, without carrying the wrapped L2 key', () => {
    const blob = seal(l2, header, 'tenant-a', 'system-a', dataKey);
    const parsed = parseBlob(blob);
    expect(parsed).toMatchObject({ version: 2, keyLinkId: 'link-1' });
    expect(parsed.l2Id.equals(l2Id)).toBe(true);
    expect(parsed.wrappedL2).toBeUndefined();
    expect(parsed.header.equals(header)).toBe(true);
    expect(header).toHaveLength(1 + 1 + 'link-1'.length + 16);
    expect(blob).toHaveLength(header.length + 12 + 32 + 16);
    expect(open(l2, parsed, 'tenant-a', 'system-a').equals(dataKey)).toBe(true);
  });

  it('still reads version 1 blobs, which embed the L1-wrapped L2 key', () => {
    const wrappedL2 = randomBytes(60);
    const legacy = encodeLegacyHeader({ keyLinkId: 'link-1', l2Id, wrappedL2 });
    const parsed = parseBlob(seal(l2, legacy, 'tenant-a', 'system-a', dataKey));
    expect(parsed).toMatchObject({ version: 1, keyLinkId: 'link-1' });
    expect(parsed.wrappedL2!.equals(wrappedL2)).toBe(true);
    expect(parsed.l2Id.equals(l2Id)).toBe(true);
    expect(open(l2, parsed, 'tenant-a', 'system-a').equals(dataKey)).toBe(true);
  });

  it('a version 2 blob relabelled as version 1 does not open: the version byte is authenticated', () => {
    const blob = seal(l2, header, 'tenant-a', 'system-a', dataKey);
    const relabelled = Buffer.from(blob);
    relabelled[0] = 1;
    expect(() => open(l2, parseBlob(Buffer.concat([relabelled.subarray(0, header.length), Buffer.from([0, 1, 7]), relabelled.subarray(header.length)])), 'tenant-a', 'system-a')).toThrow(BlobAuthenticationError);
  });

  it('is randomised: the same data key seals differently each time', () => {
    expect(seal(l2, header, 't', 's', dataKey).equals(seal(l2, header, 't', 's', dataKey))).toBe(false);
  });

  it.each([
    ['another tenant', (b: Buffer) => open(l2, parseBlob(b), 'tenant-b', 'system-a')],
    ['another system', (b: Buffer) => open(l2, parseBlob(b), 'tenant-a', 'system-b')],
    ['another L2 key', (b: Buffer) => open(randomBytes(32), parseBlob(b), 'tenant-a', 'system-a')],
    ['a changed l2Id byte', (b: Buffer) => { b[10] ^= 1; return open(l2, parseBlob(b), 'tenant-a', 'system-a'); }],
    ['a changed ciphertext byte', (b: Buffer) => { b[b.length - 20] ^= 1; return open(l2, parseBlob(b), 'tenant-a', 'system-a'); }],
  ])('does not open for %s', (_name, attempt) => {
    expect(() => attempt(seal(l2, header, 'tenant-a', 'system-a', dataKey))).toThrow(BlobAuthenticationError);
  });

  it('rejects truncated or unknown blobs as malformed', () => {
    const blob = seal(l2, header, 't', 's', dataKey);
    expect(() => parseBlob(Buffer.alloc(0))).toThrow(MalformedBlobError);
    expect(() => parseBlob(Buffer.concat([Buffer.from([3]), blob.subarray(1)]))).toThrow('unknown version 3');
    expect(() => parseBlob(blob.subarray(0, header.length + 20))).toThrow('truncated body');
    expect(() => parseBlob(blob.subarray(0, 10))).toThrow('truncated header');
    const legacy = encodeLegacyHeader({ keyLinkId: 'link-1', l2Id, wrappedL2: randomBytes(60) });
    expect(() => parseBlob(legacy.subarray(0, legacy.length - 10))).toThrow('truncated body');
  });

  it('binds the L1 wrap to tenant, link and L2 id without ambiguity', () => {
    const id = randomBytes(16);
    expect(l1Aad('ab', 'c', id).equals(l1Aad('a', 'bc', id))).toBe(false);
  });

  it('fingerprints an L2 key by its key check value (known answer), never by anything that reveals it', () => {
    // AES-256 with the all-zero key over the zero block is dc95c078a2408989ad48a21492842087.
    expect(l2Fingerprint(Buffer.alloc(32))).toBe('kcv:dc95c0');
    const fingerprint = l2Fingerprint(l2);
    expect(fingerprint).toMatch(/^kcv:[0-9a-f]{6}$/);
    expect(fingerprint).toBe(l2Fingerprint(Buffer.from(l2)));
    expect(l2Fingerprint(randomBytes(32))).not.toBe(fingerprint);
  });
});
