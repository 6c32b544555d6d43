import { InvalidKeyReferenceError } from '../key-provider.errors';
import { parseAwsKmsKeyRef } from './aws-kms-key-ref';

describe('AWS KMS key references (unit)', () => {
  it('reads key ARNs (UUID and multi-Region ids) and alias ARNs in every partition, with the region', () => {
    expect(parseAwsKmsKeyRef('arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual({
      partition: 'aws',
      region: 'eu-central-1',
      account: '111122223333',
      kind: 'key',
      id: '1234abcd-12ab-34cd-56ef-1234567890ab',
      arn: 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(parseAwsKmsKeyRef(`arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-${'a'.repeat(32)}`)).toMatchObject({ region: 'us-gov-west-1', kind: 'key' });
    expect(parseAwsKmsKeyRef('arn:aws-cn:kms:cn-north-1:111122223333:alias/tenants/7_l1-key')).toMatchObject({ kind: 'alias', id: 'tenants/7_l1-key' });
  });

  it.each([
    '',
    '1234abcd-12ab-34cd-56ef-1234567890ab',
    'alias/tenant-7',
    'arn:aws:kms:eu-central-1:111122223333:alias/aws/s3',
    'arn:aws:kms:eu-central-1:111122223333:alias/has space',
    'arn:aws:kms:eu-central-1:111122223333:key/1234ABCD-12AB-34CD-56EF-1234567890AB',
    'arn:aws:kms:eu-central-1:111122223333:key/',
    'arn:aws:kms:central:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:eu-central-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:iam::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:eu-central-1:111122223333:grant/1234abcd-12ab-34cd-56ef-1234567890ab',
  ])('refuses %j with InvalidKeyReferenceError', (ref) => {
    expect(() => parseAwsKmsKeyRef(ref)).toThrow(InvalidKeyReferenceError);
  });

  it('does not echo a value that is not reference-shaped (a secret pasted into the wrong field)', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    try {
      parseAwsKmsKeyRef(secret);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidKeyReferenceError);
      expect(`${(e as Error).message} ${JSON.stringify((e as InvalidKeyReferenceError).details)}`).not.toContain(secret);
    }
  });
});
