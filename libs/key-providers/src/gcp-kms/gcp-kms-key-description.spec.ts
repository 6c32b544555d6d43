import { keyVersionFingerprint } from '../byok/byok-wrap';
import { algorithmOf, describeCryptoKey } from './gcp-kms-key-description';

const ref = 'projects/acme-prod/locations/europe-west3/keyRings/r/cryptoKeys/k';

describe('Cloud KMS key description', () => {
  it.each([
    ['GOOGLE_SYMMETRIC_ENCRYPTION', 'AES', 256],
    ['AES_128_GCM', 'AES', 128],
    ['RSA_DECRYPT_OAEP_3072_SHA256', 'RSA', 3072],
    ['RSA_SIGN_PSS_4096_SHA512', 'RSA', 4096],
    ['EC_SIGN_P384_SHA384', 'EC', 384],
  ])('reads %s as %s %i', (name, algorithm, sizeBits) => {
    expect(algorithmOf(name)).toEqual({ algorithm, sizeBits });
  });

  it.each([
    ['ENABLED', 'enabled'],
    ['DISABLED', 'disabled'],
    ['DESTROY_SCHEDULED', 'destroyed'],
    ['DESTROYED', 'destroyed'],
    ['PENDING_IMPORT', 'pending-import'],
    ['PENDING_GENERATION', 'unknown'],
  ])('describes a primary version in state %s as %s, fingerprinted by its name', (state, expected) => {
    const primary = { name: `${ref}/cryptoKeyVersions/7`, state, algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' };
    expect(describeCryptoKey(ref, 'europe-west3', { name: ref, purpose: 'ENCRYPT_DECRYPT', primary })).toEqual({
      ref,
      algorithm: 'AES',
      sizeBits: 256,
      state: expected,
      location: 'europe-west3',
      version: '7',
      fingerprint: keyVersionFingerprint(`${ref}/cryptoKeyVersions/7`),
    });
  });

  it('describes an import-only key without a primary as pending-import with no fingerprint yet', () => {
    const key = { name: ref, purpose: 'ENCRYPT_DECRYPT', importOnly: true, versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' } };
    expect(describeCryptoKey(ref, 'eu', key)).toMatchObject({ state: 'pending-import', algorithm: 'AES', sizeBits: 256, fingerprint: 'unavailable' });
    expect(describeCryptoKey(ref, 'eu', { ...key, importOnly: false }).state).toBe('unknown');
  });
});
