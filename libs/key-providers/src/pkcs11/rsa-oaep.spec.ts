import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { oaepDecodeSha256, oaepEncodeSha256, oaepMaxMessageBytes } from './rsa-oaep';

/** The padding the adapter adds around the token's raw RSA must match OpenSSL's RSA-OAEP-SHA-256 exactly. */
describe('EME-OAEP with SHA-256 (RFC 8017) against OpenSSL', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const k = 256;
  const raw = (key: typeof publicKey, data: Buffer, op: 'enc' | 'dec') =>
    op === 'enc'
      ? publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, data)
      : privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, data);

  it('our encoding + raw RSA decrypts with OpenSSL OAEP-SHA-256 (with and without label)', () => {
    for (const label of [undefined, Buffer.from('tenant-42')]) {
      for (const size of [0, 1, 32, oaepMaxMessageBytes(k)]) {
        const message = randomBytes(size);
        const ct = raw(publicKey, oaepEncodeSha256(message, k, label), 'enc');
        const back = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, ct);
        expect(back).toEqual(message);
      }
    }
  });

  it('OpenSSL OAEP-SHA-256 ciphertexts decode with raw RSA + our decoding', () => {
    const label = Buffer.from('aad');
    const message = randomBytes(48);
    const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, message);
    const em = raw(privateKey, ct, 'dec');
    expect(oaepDecodeSha256(em, k, label)).toEqual(message);
    expect(oaepDecodeSha256(em, k, Buffer.from('other'))).toBeUndefined();
    expect(oaepDecodeSha256(em, k)).toBeUndefined();
  });

  it('rejects any single-bit change of the encoded message, and wrong lengths', () => {
    const em = oaepEncodeSha256(randomBytes(32), k);
    for (let bit = 0; bit < em.length * 8; bit += 37) {
      const bad = Buffer.from(em);
      bad[bit >> 3] ^= 1 << (bit & 7);
      expect(oaepDecodeSha256(bad, k)).toBeUndefined();
    }
    expect(oaepDecodeSha256(em.subarray(1), k)).toBeUndefined();
    expect(() => oaepEncodeSha256(randomBytes(oaepMaxMessageBytes(k) + 1), k)).toThrow(RangeError);
  });
});
