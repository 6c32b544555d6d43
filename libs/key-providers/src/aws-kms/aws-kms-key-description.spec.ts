import type { KeyMetadata } from '@aws-sdk/client-kms';
import { keyVersionFingerprint } from '../byok/byok-wrap';
import { describeFromMetadata, keyShape, keyState } from './aws-kms-key-description';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const meta = (extra: Partial<KeyMetadata> = {}): KeyMetadata => ({ KeyId: ARN.split('/')[1], Arn: ARN, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', ...extra });

describe('AWS KMS key descriptions (unit, DescribeKey metadata)', () => {
  it('maps every KMS key state', () => {
    const states: Record<string, string> = {
      Enabled: 'enabled',
      Disabled: 'disabled',
      Unavailable: 'disabled',
      PendingImport: 'pending-import',
      PendingDeletion: 'destroyed',
      PendingReplicaDeletion: 'destroyed',
      Creating: 'unknown',
      Updating: 'unknown',
    };
    for (const [KeyState, state] of Object.entries(states)) expect({ KeyState, state: keyState(meta({ KeyState: KeyState as KeyMetadata['KeyState'] })) }).toEqual({ KeyState, state });
  });

  it('maps key specs to family and size', () => {
    expect(keyShape('SYMMETRIC_DEFAULT')).toEqual({ algorithm: 'AES', sizeBits: 256 });
    expect(keyShape('RSA_4096')).toEqual({ algorithm: 'RSA', sizeBits: 4096 });
    expect(keyShape('ECC_NIST_P384')).toEqual({ algorithm: 'EC', sizeBits: 384 });
    expect(keyShape('ECC_SECG_P256K1')).toEqual({ algorithm: 'EC', sizeBits: 256 });
    expect(keyShape('HMAC_512')).toEqual({ algorithm: 'HMAC', sizeBits: 512 });
  });

  it('uses CurrentKeyMaterialId as the version where KMS reports it, so a rotation changes version and fingerprint', () => {
    const before = describeFromMetadata(ARN, meta({ CurrentKeyMaterialId: 'a'.repeat(64) }));
    const after = describeFromMetadata(ARN, meta({ CurrentKeyMaterialId: 'b'.repeat(64) }));
    expect(before).toMatchObject({ version: 'a'.repeat(64), location: 'eu-west-1', fingerprint: keyVersionFingerprint(`${ARN}#${'a'.repeat(64)}`) });
    expect(after.version).not.toBe(before.version);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(describeFromMetadata(ARN, meta({ CurrentKeyMaterialId: 'a'.repeat(64), KeyState: 'Disabled' })).fingerprint).toBe(before.fingerprint);
  });

  it('falls back to the key ARN as version when no key material id is reported', () => {
    expect(describeFromMetadata(ARN, meta())).toMatchObject({ version: ARN, fingerprint: keyVersionFingerprint(`${ARN}#${ARN}`) });
  });
});
