import { checkKeyStrength } from './key-strength.rule';
import { validatePolicyDocument } from './policy-document';

describe('policy documents', () => {
  it('accepts a complete, valid document and an empty one', () => {
    expect(validatePolicyDocument({})).toEqual([]);
    expect(
      validatePolicyDocument({
        keyStrength: { allowedAlgorithms: ['AES', 'RSA'], minimumBits: { AES: 256, RSA: 3072 } },
        rotation: { maxAgeDays: 90, warningDays: 14 },
        geofence: { unwrapRegions: { EU: ['eu-central-1'] } },
      }),
    ).toEqual([]);
  });
  it('reports every problem with its path', () => {
    expect(
      validatePolicyDocument({
        keyStrength: { allowedAlgorithms: ['AES', 'DES'], minimumBits: { RSA: 'big', XYZ: 1 } },
        rotation: { maxAgeDays: 10, warningDays: 10 },
        geofence: { unwrapRegions: { EU: [], US: ['Not A Region'] } },
        colour: 'red',
      }).map((e) => e.path),
    ).toEqual([
      '$.colour',
      '$.keyStrength.allowedAlgorithms[1]',
      '$.keyStrength.minimumBits.XYZ',
      '$.keyStrength.minimumBits.RSA',
      '$.rotation.warningDays',
      '$.geofence.unwrapRegions.EU',
      '$.geofence.unwrapRegions.US[0]',
    ]);
    expect(validatePolicyDocument([])).toEqual([{ path: '$', message: 'a policy document must be a JSON object' }]);
    expect(validatePolicyDocument({ keyStrength: 3 })[0].path).toBe('$.keyStrength');
  });
});

describe('key strength admission rule', () => {
  const strict = { policyId: 'p1', version: 2, document: { keyStrength: { allowedAlgorithms: ['AES' as const], minimumBits: { AES: 256, RSA: 4096 } } } };
  const rsa = { policyId: 'p2', version: 1, document: { keyStrength: { minimumBits: { RSA: 3072 } } } };
  it('passes compliant keys and keys no policy constrains', () => {
    expect(checkKeyStrength([strict], { algorithm: 'AES', keySize: 256 })).toEqual([]);
    expect(checkKeyStrength([], { algorithm: 'RSA', keySize: 2048 })).toEqual([]);
    expect(checkKeyStrength([{ policyId: 'p', version: 1, document: {} }], { algorithm: 'RSA', keySize: 2048 })).toEqual([]);
  });
  it('lists every violation of every policy in force, naming rule, policy and version', () => {
    expect(checkKeyStrength([strict, rsa], { algorithm: 'RSA', keySize: 2048 })).toEqual([
      { rule: 'key-strength.allowed-algorithms', message: 'algorithm RSA is not allowed; allowed: AES', policyId: 'p1', policyVersion: 2 },
      { rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below the minimum of 4096 bits', policyId: 'p1', policyVersion: 2 },
      { rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below the minimum of 3072 bits', policyId: 'p2', policyVersion: 1 },
    ]);
    expect(checkKeyStrength([strict], { algorithm: 'AES', keySize: 128 }).map((f) => f.rule)).toEqual(['key-strength.minimum-bits']);
  });
});
