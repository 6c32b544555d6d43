import { given } from '../testing';
import type { KeyLinkCommand, KeyObservation } from './key-link.commands';
import { keyLinkDecider as d } from './key-link.decider';
import type { KeyLinkEvent } from './key-link.events';
import { credentialRefProblem } from './key-link.sovereignty';

const K = 'k-1';
const T = 't-1';
const ids = { keyLinkId: K, tenantId: T };
const linkedAs = (mode: 'BYOK' | 'HYOK'): KeyLinkEvent => ({
  type: 'KeyLinked',
  data: { ...ids, providerKind: 'aws-kms', mode, keyReference: 'arn:aws:kms:eu-central-1:111122223333:key/k', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
});
const proof = (over: Partial<{ algorithm: string; sizeBits: number; fingerprint: string; keyVersion: string }> = {}) => ({
  algorithm: 'AES', sizeBits: 256, fingerprint: 'keyversion:sha256:aa', keyVersion: 'v1', latencyMs: 2, ...over,
});
const proven = (fingerprint = 'keyversion:sha256:aa', keyVersion = 'v1'): KeyLinkEvent => ({ type: 'KeyPossessionProven', data: { ...ids, fingerprint, keyVersion, latencyMs: 2 } });
const activated: KeyLinkEvent = { type: 'KeyLinkActivated', data: ids };
const issued = (importToken = 'tok-1', expiresAt = '2026-11-30T00:00:00.000Z'): KeyLinkEvent => ({
  type: 'KeyImportParametersIssued',
  data: { ...ids, importToken, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072', publicKeyPem: 'PEM', publicKeyFingerprint: 'sha256:00', expiresAt },
});
const imported: KeyLinkEvent = { type: 'KeyMaterialImported', data: { ...ids, importToken: 'tok-1', fingerprint: 'keyversion:sha256:aa', keyVersion: 'v1' } };
const activate = (p = proof()): KeyLinkCommand => ({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active', proof: p });
const health = (observation: KeyObservation, onProblem: 'warn' | 'revoke' = 'warn'): KeyLinkCommand => ({
  type: 'RecordKeyHealth', keyLinkId: K, observation, onProblem, ...(onProblem === 'revoke' ? { policy: { policyId: 'p-1', version: 3 } } : {}),
});
const importCmd = (importToken = 'tok-1', now = '2026-11-29T12:00:00.000Z'): KeyLinkCommand => ({
  type: 'RecordKeyMaterialImport', keyLinkId: K, importToken, algorithm: 'AES', sizeBits: 256, fingerprint: 'keyversion:sha256:aa', keyVersion: 'v1', now,
});
const hyokActive = [linkedAs('HYOK'), proven(), activated];

describe('sovereign linking rules', () => {
  describe('credential references', () => {
    it.each(['env:ACME_PIN', 'file:/run/secrets/acme', 'secret:tenants/acme/hsm-pin'])('accepts %s', (ref) => expect(credentialRefProblem(ref)).toBeUndefined());
    it.each(['1234', 'hunter2', 'env:1BAD', 'file:relative', 'AKIAIOSFODNN7EXAMPLE'])('refuses %s without echoing it', (ref) => {
      const problem = credentialRefProblem(ref);
      expect(problem).toMatch(/never the credential/);
      expect(problem).not.toContain(ref);
    });
    it('refuses a link that carries a credential instead of a reference', () => {
      const link = { type: 'LinkKey' as const, ...linkedAs('HYOK').data, tenant: 'active' as const, credentialRef: 'super-secret-pin' };
      given(d).when(link as KeyLinkCommand).thenThrows({ kind: 'validation', code: 'key-link.credentialRef' });
    });
  });

  describe('proof of possession', () => {
    it('refuses a key of another family or size than linked', () => {
      given(d, [linkedAs('HYOK')]).when(activate(proof({ sizeBits: 128 }))).thenThrows({ code: 'key-link.key-mismatch' });
      given(d, [linkedAs('HYOK')]).when(activate(proof({ algorithm: 'RSA', sizeBits: 3072 }))).thenThrows({ code: 'key-link.key-mismatch' });
    });
    it('refuses other key material behind the same reference and version (a swapped key)', () => {
      given(d, [linkedAs('HYOK'), proven()]).when(activate(proof({ fingerprint: 'keyversion:sha256:bb' }))).thenThrows({ code: 'key-link.key-replaced' });
    });
    it('accepts a new fingerprint with a new version (a rotation)', () => {
      given(d, [linkedAs('HYOK'), proven()]).when(activate(proof({ fingerprint: 'keyversion:sha256:bb', keyVersion: 'v2' }))).then([proven('keyversion:sha256:bb', 'v2'), activated]);
    });
    it('verification records a proof and a recovery from a degraded state', () => {
      const degraded: KeyLinkEvent = { type: 'KeyLinkDegraded', data: { ...ids, condition: 'disabled', action: 'warn' } };
      given(d, [...hyokActive, degraded])
        .when({ type: 'VerifyKeyLink', keyLinkId: K, proof: proof() })
        .then([proven(), { type: 'KeyLinkHealthRestored', data: { ...ids, previousCondition: 'disabled' } }]);
    });
  });

  describe('BYOK', () => {
    it('is refused for HYOK links', () => {
      given(d, [linkedAs('HYOK')])
        .when({ type: 'IssueImportParameters', keyLinkId: K, importToken: 't', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072', publicKeyPem: 'P', publicKeyFingerprint: 'f', expiresAt: '2027-01-01T00:00:00Z' })
        .thenThrows({ code: 'byok.not-byok' });
    });
    it('a BYOK link activates only after its material is imported', () => {
      given(d, [linkedAs('BYOK'), issued()]).when(activate()).thenThrows({ code: 'byok.material-not-imported' });
      given(d, [linkedAs('BYOK'), issued(), imported]).when(activate()).then([proven(), activated]);
    });
    it('imports with a token issued for the link, before it expires, once', () => {
      given(d, [linkedAs('BYOK'), issued()]).when(importCmd()).then([imported]);
      given(d, [linkedAs('BYOK'), issued()]).when(importCmd('tok-other')).thenThrows({ code: 'byok.import-token-unknown' });
      given(d, [linkedAs('BYOK'), issued()]).when(importCmd('tok-1', '2026-11-30T00:00:00.000Z')).thenThrows({ code: 'byok.import-parameters-expired' });
      given(d, [linkedAs('BYOK'), issued(), imported]).when(importCmd()).thenThrows({ code: 'byok.already-imported' });
      given(d, [linkedAs('BYOK'), issued(), imported, proven(), activated])
        .when({ type: 'IssueImportParameters', keyLinkId: K, importToken: 't2', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072', publicKeyPem: 'P', publicKeyFingerprint: 'f', expiresAt: '2027-01-01T00:00:00Z' })
        .thenThrows({ code: 'byok.already-imported' });
    });
  });

  describe('health sync', () => {
    it('records a problem once, not on every sync, and the recovery', () => {
      const degraded: KeyLinkEvent = { type: 'KeyLinkDegraded', data: { ...ids, condition: 'disabled', providerCode: 'DisabledException', action: 'warn' } };
      given(d, hyokActive).when(health({ condition: 'disabled', providerCode: 'DisabledException' })).then([degraded]);
      given(d, [...hyokActive, degraded]).when(health({ condition: 'disabled', providerCode: 'DisabledException' })).thenNothing();
      given(d, [...hyokActive, degraded])
        .when(health({ condition: 'healthy', fingerprint: 'keyversion:sha256:aa', keyVersion: 'v1' }))
        .then([{ type: 'KeyLinkHealthRestored', data: { ...ids, previousCondition: 'disabled' } }]);
      given(d, hyokActive).when(health({ condition: 'healthy', fingerprint: 'keyversion:sha256:aa', keyVersion: 'v1' })).thenNothing();
    });
    it('revokes automatically when policy says so, naming the policy; a revoked link is not revoked twice', () => {
      const degraded: KeyLinkEvent = { type: 'KeyLinkDegraded', data: { ...ids, condition: 'destroyed', action: 'revoke', policyId: 'p-1', policyVersion: 3 } };
      const revoked: KeyLinkEvent = {
        type: 'KeyLinkRevoked',
        data: { ...ids, reason: 'automatic: the key is destroyed at the provider (policy p-1 v3: hyokHealth.onProblem = revoke)', previousStatus: 'active', automatic: true },
      };
      given(d, hyokActive).when(health({ condition: 'destroyed' }, 'revoke')).then([degraded, revoked]);
      given(d, [...hyokActive, revoked]).when(health({ condition: 'destroyed' }, 'revoke')).then([degraded]);
    });
    it('an unreachable provider only warns, whatever the policy', () => {
      given(d, hyokActive)
        .when(health({ condition: 'unreachable', providerCode: 'provider-unavailable' }, 'revoke'))
        .then([{ type: 'KeyLinkDegraded', data: { ...ids, condition: 'unreachable', providerCode: 'provider-unavailable', action: 'warn', policyId: 'p-1', policyVersion: 3 } }]);
    });
    it('records a new version at the provider, and a swapped key as key-replaced', () => {
      given(d, hyokActive)
        .when(health({ condition: 'healthy', fingerprint: 'keyversion:sha256:bb', keyVersion: 'v2' }))
        .then([{ type: 'KeyVersionRotatedAtProvider', data: { ...ids, previousVersion: 'v1', keyVersion: 'v2', previousFingerprint: 'keyversion:sha256:aa', fingerprint: 'keyversion:sha256:bb' } }]);
      given(d, hyokActive)
        .when(health({ condition: 'healthy', fingerprint: 'keyversion:sha256:bb', keyVersion: 'v1' }, 'revoke'))
        .then([
          { type: 'KeyLinkDegraded', data: { ...ids, condition: 'key-replaced', action: 'revoke', policyId: 'p-1', policyVersion: 3 } },
          { type: 'KeyLinkRevoked', data: { ...ids, reason: 'automatic: the key is key-replaced at the provider (policy p-1 v3: hyokHealth.onProblem = revoke)', previousStatus: 'active', automatic: true } },
        ]);
    });
    it('ignores unlinked links', () => {
      given(d, [linkedAs('HYOK'), { type: 'KeyUnlinked', data: { ...ids, reason: 'retired' } }]).when(health({ condition: 'destroyed' }, 'revoke')).thenNothing();
    });
  });

  describe('scheduled rotation', () => {
    const start: KeyLinkCommand = { type: 'StartKeyRotation', keyLinkId: K, maxAgeDays: 30, policy: { policyId: 'p-1', version: 2 } };
    const started: KeyLinkEvent = { type: 'KeyRotationStarted', data: { ...ids, previousVersion: 'v1', maxAgeDays: 30, policyId: 'p-1', policyVersion: 2 } };
    const due = (keySince = '2026-01-01T00:00:00.000Z'): KeyLinkCommand => ({ type: 'RecordRotationDue', keyLinkId: K, keySince, maxAgeDays: 30, why: 'provider-cannot-rotate' });
    const dueEvent: KeyLinkEvent = { type: 'KeyRotationDue', data: { ...ids, keySince: '2026-01-01T00:00:00.000Z', maxAgeDays: 30, why: 'provider-cannot-rotate' } };
    const rotated: KeyLinkEvent = { type: 'KeyLinkRotated', data: { ...ids, previousVersion: 'v1', keyVersion: 'v2', fingerprint: 'keyversion:sha256:bb' } };

    it('records the start with the version it starts from, once, and only for active links', () => {
      given(d, hyokActive).when(start).then([started]);
      given(d, [...hyokActive, started]).when(start).thenNothing();
      given(d, [linkedAs('HYOK')]).when(start).thenNothing();
      given(d, [...hyokActive, started, rotated]).when(start).then([{ ...started, data: { ...started.data, previousVersion: 'v2' } } as KeyLinkEvent]);
    });

    it('records an overdue key that cannot be rotated once per key, and again after it was rotated', () => {
      given(d, [...hyokActive, started]).when(due()).then([dueEvent]);
      given(d, [...hyokActive, started, dueEvent]).when(due()).thenNothing();
      given(d, [...hyokActive, started, dueEvent]).when(start).then([started]);
      given(d, [...hyokActive, dueEvent, rotated]).when(due('2026-03-01T00:00:00.000Z')).then([{ ...dueEvent, data: { ...dueEvent.data, keySince: '2026-03-01T00:00:00.000Z' } } as KeyLinkEvent]);
    });
  });
});
