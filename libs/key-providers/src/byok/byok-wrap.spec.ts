import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ImportRefusedError } from '../key-provider.errors';
import { IMPORT_WRAPPING_ALGORITHMS } from '../key-provider.port';
import { aesKeyCheckValue, keyVersionFingerprint, unwrapImportedKeyMaterial, wrapKeyMaterialForImport } from './byok-wrap';

const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
const pem = rsa3072.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('BYOK transport wrapping', () => {
  it.each(IMPORT_WRAPPING_ALGORITHMS)('%s round-trips 16, 24 and 32 byte keys and is randomised', (wrappingAlgorithm) => {
    for (const size of [16, 24, 32]) {
      const keyMaterial = randomBytes(size);
      const a = wrapKeyMaterialForImport({ publicKeyPem: pem, wrappingAlgorithm, keyMaterial });
      const b = wrapKeyMaterialForImport({ publicKeyPem: pem, wrappingAlgorithm, keyMaterial });
      expect(a.equals(b)).toBe(false);
      expect(a.includes(keyMaterial)).toBe(false);
      expect(unwrapImportedKeyMaterial({ privateKey: rsa3072.privateKey, wrappingAlgorithm, wrappedKeyMaterial: a })).toEqual(keyMaterial);
    }
  });

  it('RSA_AES_KEY_WRAP carries material longer than OAEP can (an RSA private key)', () => {
    const long = randomBytes(1200);
    expect(() => wrapKeyMaterialForImport({ publicKeyPem: pem, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', keyMaterial: long })).toThrow(/too long/);
    const wrapped = wrapKeyMaterialForImport({ publicKeyPem: pem, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', keyMaterial: long });
    expect(wrapped.length).toBe(384 + 1208);
    expect(unwrapImportedKeyMaterial({ privateKey: rsa3072.privateKey, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: wrapped })).toEqual(long);
  });

  it.each(IMPORT_WRAPPING_ALGORITHMS)('%s refuses a changed, truncated or foreign blob as corrupted', (wrappingAlgorithm) => {
    const wrapped = wrapKeyMaterialForImport({ publicKeyPem: pem, wrappingAlgorithm, keyMaterial: randomBytes(32) });
    const other = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const flipped = Buffer.from(wrapped);
    flipped[flipped.length - 1] ^= 1;
    for (const [privateKey, blob] of [
      [rsa3072.privateKey, flipped],
      [rsa3072.privateKey, wrapped.subarray(0, wrapped.length - 1)],
      [other.privateKey, wrapped],
    ] as const) {
      let error: unknown;
      try {
        unwrapImportedKeyMaterial({ privateKey, wrappingAlgorithm, wrappedKeyMaterial: blob });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ImportRefusedError);
      expect((error as ImportRefusedError).rule).toBe('corrupted');
    }
  });

  it('refuses wrapping keys that are not RSA of at least 3072 bits', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => wrapKeyMaterialForImport({ publicKeyPem: small, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', keyMaterial: randomBytes(32) })).toThrow(/2048 bits/);
    expect(() => wrapKeyMaterialForImport({ publicKeyPem: ec, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', keyMaterial: randomBytes(32) })).toThrow(/must be RSA/);
    expect(() => wrapKeyMaterialForImport({ publicKeyPem: 'nope', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', keyMaterial: randomBytes(32) })).toThrow(/public key/);
  });

  it('computes the key check value of the NIST AES-256 test key and version fingerprints', () => {
    // AES-256 of a zero block under the all-zero key is dc95c078a2408989ad48a21492842087 (FIPS-197 style vector).
    expect(aesKeyCheckValue(Buffer.alloc(32))).toBe('kcv:dc95c0');
    expect(keyVersionFingerprint('v1')).toMatch(/^keyversion:sha256:[0-9a-f]{64}$/);
    expect(keyVersionFingerprint('v1')).not.toBe(keyVersionFingerprint('v2'));
  });
});
