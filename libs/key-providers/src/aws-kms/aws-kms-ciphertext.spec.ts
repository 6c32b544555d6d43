import { randomBytes } from 'node:crypto';
import { decodeAwsKmsCiphertext, encodeAwsKmsCiphertext, encryptionContext } from './aws-kms-ciphertext';

describe('aws-kms ciphertext envelope (unit)', () => {
  it('round-trips a blob behind version byte 0x01 and a 16-byte check', () => {
    const blob = randomBytes(113);
    const encoded = encodeAwsKmsCiphertext(blob);
    expect(encoded[0]).toBe(0x01);
    expect(encoded.length).toBe(1 + 16 + 113);
    expect(decodeAwsKmsCiphertext(encoded)).toEqual(blob);
  });

  it('refuses any changed byte, other versions, truncation, extension and blobs over 6144 bytes', () => {
    const encoded = encodeAwsKmsCiphertext(randomBytes(113));
    for (let at = 0; at < encoded.length; at++) {
      const changed = Buffer.from(encoded);
      changed[at] ^= 0x80;
      expect({ at, decoded: decodeAwsKmsCiphertext(changed) }).toEqual({ at, decoded: undefined });
    }
    expect(decodeAwsKmsCiphertext(encoded.subarray(0, -1))).toBeUndefined();
    expect(decodeAwsKmsCiphertext(Buffer.concat([encoded, Buffer.from([0])]))).toBeUndefined();
    expect(decodeAwsKmsCiphertext(Buffer.alloc(0))).toBeUndefined();
    expect(decodeAwsKmsCiphertext(encodeAwsKmsCiphertext(randomBytes(6145)))).toBeUndefined();
  });

  it('sends the aad as base64 encryption context, and none for a missing or empty aad', () => {
    expect(encryptionContext(Buffer.from([0, 255, 1]))).toEqual({ 'cmk:aad': 'AP8B' });
    expect(encryptionContext(undefined)).toBeUndefined();
    expect(encryptionContext(Buffer.alloc(0))).toBeUndefined();
  });
});
