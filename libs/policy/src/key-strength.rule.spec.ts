import { checkKeyStrength, PolicyInForce } from './key-strength.rule';
import type { PolicyDocument } from './policy-document';

const policy = (policyId: string, version: number, document: PolicyDocument): PolicyInForce => ({ policyId, version, document });
const aesOnly = policy('p-aes', 2, { keyStrength: { allowedAlgorithms: ['AES'] } });
const strongRsa = policy('p-rsa', 1, { keyStrength: { minimumBits: { RSA: 3072 } } });
const strict = policy('p-strict', 7, { keyStrength: { allowedAlgorithms: ['AES'], minimumBits: { AES: 256, RSA: 4096 } } });

describe('checkKeyStrength (admission rule key-strength)', () => {
  describe('no findings', () => {
    it('when no policy is in force', () => expect(checkKeyStrength([], { algorithm: 'RSA', keySize: 2048 })).toEqual([]));

    it('when the policies say nothing about key strength', () => {
      const silent = [policy('p', 1, {}), policy('q', 1, { rotation: { maxAgeDays: 90 } }), policy('r', 1, { keyStrength: {} })];
      expect(checkKeyStrength(silent, { algorithm: 'RSA', keySize: 2048 })).toEqual([]);
    });

    it('for a compliant key', () => {
      expect(checkKeyStrength([strict], { algorithm: 'AES', keySize: 256 })).toEqual([]);
      expect(checkKeyStrength([aesOnly, strict], { algorithm: 'AES', keySize: 256 })).toEqual([]);
    });

    it('at exactly the minimum', () => expect(checkKeyStrength([strongRsa], { algorithm: 'RSA', keySize: 3072 })).toEqual([]));

    it('for an algorithm the minimums do not mention', () => expect(checkKeyStrength([strongRsa], { algorithm: 'EC', keySize: 256 })).toEqual([]));
  });

  describe('allowed algorithms', () => {
    it('finds an algorithm that is not allowed, naming the allowed ones, the policy and its version', () => {
      expect(checkKeyStrength([aesOnly], { algorithm: 'RSA', keySize: 4096 })).toEqual([
        { rule: 'key-strength.allowed-algorithms', message: 'algorithm RSA is not allowed; allowed: AES', policyId: 'p-aes', policyVersion: 2 },
      ]);
      expect(checkKeyStrength([policy('p2', 1, { keyStrength: { allowedAlgorithms: ['AES', 'EC'] } })], { algorithm: 'RSA', keySize: 4096 })[0].message).toBe(
        'algorithm RSA is not allowed; allowed: AES, EC',
      );
    });

    it('is exact about the algorithm name', () => {
      expect(checkKeyStrength([aesOnly], { algorithm: 'aes', keySize: 256 }).map((f) => f.rule)).toEqual(['key-strength.allowed-algorithms']);
      expect(checkKeyStrength([aesOnly], { algorithm: 'DES', keySize: 56 }).map((f) => f.rule)).toEqual(['key-strength.allowed-algorithms']);
    });
  });

  describe('minimum bits', () => {
    it('finds a key below the minimum for its algorithm', () => {
      expect(checkKeyStrength([strongRsa], { algorithm: 'RSA', keySize: 2048 })).toEqual([
        { rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below the minimum of 3072 bits', policyId: 'p-rsa', policyVersion: 1 },
      ]);
      expect(checkKeyStrength([strict], { algorithm: 'AES', keySize: 128 })).toEqual([
        { rule: 'key-strength.minimum-bits', message: 'AES-128 is below the minimum of 256 bits', policyId: 'p-strict', policyVersion: 7 },
      ]);
    });
  });

  describe('several policies and several violations', () => {
    it('lists every violation of every policy in force, in policy order, algorithm before size', () => {
      expect(checkKeyStrength([strict, strongRsa, aesOnly], { algorithm: 'RSA', keySize: 2048 })).toEqual([
        { rule: 'key-strength.allowed-algorithms', message: 'algorithm RSA is not allowed; allowed: AES', policyId: 'p-strict', policyVersion: 7 },
        { rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below the minimum of 4096 bits', policyId: 'p-strict', policyVersion: 7 },
        { rule: 'key-strength.minimum-bits', message: 'RSA-2048 is below the minimum of 3072 bits', policyId: 'p-rsa', policyVersion: 1 },
        { rule: 'key-strength.allowed-algorithms', message: 'algorithm RSA is not allowed; allowed: AES', policyId: 'p-aes', policyVersion: 2 },
      ]);
    });

    it('the strictest policy wins because each is checked: a key can satisfy one and fail another', () => {
      const lenient = policy('p-lenient', 1, { keyStrength: { minimumBits: { RSA: 2048 } } });
      expect(checkKeyStrength([lenient, strongRsa], { algorithm: 'RSA', keySize: 2048 }).map((f) => f.policyId)).toEqual(['p-rsa']);
      expect(checkKeyStrength([lenient, strongRsa], { algorithm: 'RSA', keySize: 3072 })).toEqual([]);
    });

    it('keeps two versions of the same policy apart', () => {
      const v1 = policy('p', 1, { keyStrength: { minimumBits: { AES: 128 } } });
      const v2 = policy('p', 2, { keyStrength: { minimumBits: { AES: 256 } } });
      expect(checkKeyStrength([v1, v2], { algorithm: 'AES', keySize: 192 })).toEqual([
        { rule: 'key-strength.minimum-bits', message: 'AES-192 is below the minimum of 256 bits', policyId: 'p', policyVersion: 2 },
      ]);
    });
  });
});
