import { InvalidKeyReferenceError } from '../key-provider.errors';
import { importJobKeyRing, parseGcpKmsKeyRef, parseVersionName } from './gcp-kms-key-ref';

describe('Cloud KMS key references', () => {
  it('takes a CryptoKey name apart', () => {
    expect(parseGcpKmsKeyRef('projects/acme-prod/locations/europe-west3/keyRings/cmk/cryptoKeys/tenant_l1-a')).toEqual({
      name: 'projects/acme-prod/locations/europe-west3/keyRings/cmk/cryptoKeys/tenant_l1-a',
      project: 'acme-prod',
      location: 'europe-west3',
      keyRing: 'cmk',
      cryptoKey: 'tenant_l1-a',
      keyRingName: 'projects/acme-prod/locations/europe-west3/keyRings/cmk',
    });
    expect(parseGcpKmsKeyRef('projects/123456789012/locations/global/keyRings/r/cryptoKeys/k').project).toBe('123456789012');
    expect(parseGcpKmsKeyRef('projects/example.com:acme-prod/locations/eu/keyRings/r/cryptoKeys/k').location).toBe('eu');
  });

  it.each([
    '',
    'projects/acme-prod/locations/europe-west3/keyRings/cmk',
    'projects/acme-prod/locations/europe-west3/keyRings/cmk/cryptoKeys/k/cryptoKeyVersions/1',
    'projects/acme-prod/locations/europe-west3/keyRings/cmk/cryptoKeys/k/',
    '/projects/acme-prod/locations/europe-west3/keyRings/cmk/cryptoKeys/k',
    'projects/AB/locations/europe-west3/keyRings/cmk/cryptoKeys/k',
    'projects/acme-prod/locations/Europe/keyRings/cmk/cryptoKeys/k',
    `projects/acme-prod/locations/eu/keyRings/cmk/cryptoKeys/${'k'.repeat(64)}`,
    'projects/acme-prod/locations/eu/keyRings/c m k/cryptoKeys/k',
    'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  ])('refuses %p with InvalidKeyReferenceError', (ref) => {
    expect(() => parseGcpKmsKeyRef(ref)).toThrow(InvalidKeyReferenceError);
  });

  it('says to name the key when given a version, and does not print unprintable input', () => {
    expect(() => parseGcpKmsKeyRef('projects/acme-prod/locations/eu/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3')).toThrow(/not one of its versions/);
    let message = '';
    try {
      parseGcpKmsKeyRef('secret\nvalue');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('secret');
  });

  it('reads import job and version names', () => {
    expect(importJobKeyRing('projects/acme-prod/locations/eu/keyRings/r/importJobs/job-1')).toBe('projects/acme-prod/locations/eu/keyRings/r');
    expect(importJobKeyRing('projects/acme-prod/locations/eu/keyRings/r/cryptoKeys/k')).toBeUndefined();
    expect(parseVersionName('projects/acme-prod/locations/eu/keyRings/r/cryptoKeys/k/cryptoKeyVersions/12')).toEqual({
      keyName: 'projects/acme-prod/locations/eu/keyRings/r/cryptoKeys/k',
      versionId: '12',
    });
    expect(parseVersionName('projects/acme-prod/locations/eu/keyRings/r/cryptoKeys/k')).toBeUndefined();
    expect(parseVersionName(undefined)).toBeUndefined();
  });
});
