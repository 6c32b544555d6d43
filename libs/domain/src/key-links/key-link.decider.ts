import { Decider } from '../shared/decider';
import { invalid, invalidState, notFound } from '../shared/errors';
import { isRegion } from '../shared/validation';
import { requireReason } from '../tenants/tenant.decider';
import { KEY_ALGORITHMS, KeyLinkCommand, LINK_MODES, PROVIDER_KINDS, TenantFact } from './key-link.commands';
import { KeyLinked, KeyLinkEvent } from './key-link.events';
import type { KeyLinkState } from './key-link.state';
import { checkAwaitsImport, checkImport, checkProof, credentialRefProblem, observeHealth } from './key-link.sovereignty';

export type { IssuedImport, KeyLinkState, KeyLinkStatus } from './key-link.state';

/** Sizes a provider can actually hold, per algorithm (bits; EC: curve size). Policy may demand more. */
const VALID_SIZES: Record<string, number[]> = {
  AES: [128, 192, 256],
  RSA: [2048, 3072, 4096],
  EC: [256, 384, 521],
};

function requireTenantActive(tenant: TenantFact, tenantId: string): void {
  if (tenant === 'missing') throw notFound('tenant', tenantId);
  if (tenant !== 'active')
    throw invalidState('tenant.not-active', `tenant ${tenantId} is ${tenant}; key links can only be linked, activated or restored for an active tenant`, { tenantId, tenantStatus: tenant });
}

function requireLink(state: KeyLinkState, keyLinkId: string) {
  if (!state.exists) throw notFound('key-link', keyLinkId);
  if (state.status === 'unlinked') throw invalidState('key-link.unlinked', `key link ${keyLinkId} is unlinked; unlinking is final`, { keyLinkId });
  return state;
}

export const keyLinkDecider: Decider<KeyLinkCommand, KeyLinkEvent, KeyLinkState> = {
  initialState: { exists: false },

  decide(command, state): KeyLinkEvent[] {
    switch (command.type) {
      case 'LinkKey': {
        if (state.exists) throw invalidState('key-link.exists', `key link ${command.keyLinkId} already exists`, { keyLinkId: command.keyLinkId });
        requireTenantActive(command.tenant, command.tenantId);
        if (!PROVIDER_KINDS.includes(command.providerKind))
          throw invalid('key-link.providerKind', `providerKind must be one of ${PROVIDER_KINDS.join(', ')}`, { field: 'providerKind' });
        if (!LINK_MODES.includes(command.mode)) throw invalid('key-link.mode', `mode must be one of ${LINK_MODES.join(', ')}`, { field: 'mode' });
        if (!KEY_ALGORITHMS.includes(command.algorithm))
          throw invalid('key-link.algorithm', `algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`, { field: 'algorithm' });
        if (!VALID_SIZES[command.algorithm].includes(command.keySize))
          throw invalid('key-link.keySize', `keySize ${command.keySize} is not a valid ${command.algorithm} size (${VALID_SIZES[command.algorithm].join(', ')})`, { field: 'keySize' });
        if (!command.keyReference?.trim()) throw invalid('key-link.keyReference', 'keyReference must not be empty', { field: 'keyReference' });
        if (!isRegion(command.providerRegion))
          throw invalid('region.format', `providerRegion "${command.providerRegion}" is not a region name like eu-central-1`, { field: 'providerRegion' });
        const credentialProblem = command.credentialRef === undefined ? undefined : credentialRefProblem(command.credentialRef);
        if (credentialProblem) throw invalid('key-link.credentialRef', credentialProblem, { field: 'credentialRef' });
        // Name the fields: whatever else the command object carries must not end up in the audit log.
        const { keyLinkId, tenantId, providerKind, mode, keyReference, algorithm, keySize, providerRegion, credentialRef } = command;
        const data: KeyLinked['data'] = { keyLinkId, tenantId, providerKind, mode, keyReference, algorithm, keySize, providerRegion };
        if (credentialRef !== undefined) data.credentialRef = credentialRef;
        return [{ type: 'KeyLinked', data }];
      }
      case 'ActivateKeyLink': {
        const link = requireLink(state, command.keyLinkId);
        // Revocation wins: only an explicit restore brings a revoked link back.
        if (link.status === 'revoked')
          throw invalidState('key-link.revoked', `key link ${command.keyLinkId} is revoked; only a restore can bring it back`, { keyLinkId: command.keyLinkId });
        requireTenantActive(command.tenant, link.tenantId);
        if (link.status === 'active') return [];
        if (link.mode === 'BYOK' && !link.imported)
          throw invalidState('byok.material-not-imported', `key link ${link.keyLinkId} is BYOK and its key material has not been imported yet`, { keyLinkId: link.keyLinkId });
        if (!command.proof)
          throw invalidState('key-link.possession-not-proven', `key link ${link.keyLinkId} becomes active only after a proof of possession through its provider`, { keyLinkId: link.keyLinkId });
        checkProof(link, command.proof);
        const { fingerprint, keyVersion, latencyMs } = command.proof;
        return [
          { type: 'KeyPossessionProven', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, fingerprint, ...(keyVersion ? { keyVersion } : {}), latencyMs } },
          { type: 'KeyLinkActivated', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId } },
        ];
      }
      case 'VerifyKeyLink': {
        const link = requireLink(state, command.keyLinkId);
        checkProof(link, command.proof);
        const { fingerprint, keyVersion, latencyMs } = command.proof;
        const events: KeyLinkEvent[] = [
          { type: 'KeyPossessionProven', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, fingerprint, ...(keyVersion ? { keyVersion } : {}), latencyMs } },
        ];
        if (link.health !== 'unknown' && link.health !== 'healthy')
          events.push({ type: 'KeyLinkHealthRestored', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, previousCondition: link.health } });
        return events;
      }
      case 'IssueImportParameters': {
        const link = requireLink(state, command.keyLinkId);
        checkAwaitsImport(link);
        const { importToken, wrappingAlgorithm, wrappingKeySpec, publicKeyPem, publicKeyFingerprint, expiresAt } = command;
        return [
          {
            type: 'KeyImportParametersIssued',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, importToken, wrappingAlgorithm, wrappingKeySpec, publicKeyPem, publicKeyFingerprint, expiresAt },
          },
        ];
      }
      case 'RecordKeyMaterialImport': {
        const link = requireLink(state, command.keyLinkId);
        checkImport(link, command.importToken, command.now);
        const { importToken, fingerprint, keyVersion } = command;
        return [{ type: 'KeyMaterialImported', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, importToken, fingerprint, ...(keyVersion ? { keyVersion } : {}) } }];
      }
      case 'RecordKeyHealth': {
        if (state.exists && state.status === 'unlinked') return [];
        return observeHealth(requireLink(state, command.keyLinkId), command);
      }
      case 'StartKeyRotation': {
        const link = requireLink(state, command.keyLinkId);
        if (link.status !== 'active' || link.rotationInProgress) return [];
        const { maxAgeDays, policy } = command;
        return [
          {
            type: 'KeyRotationStarted',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, ...(link.keyVersion ? { previousVersion: link.keyVersion } : {}), maxAgeDays, ...(policy ? { policyId: policy.policyId, policyVersion: policy.version } : {}) },
          },
        ];
      }
      case 'RecordRotationDue': {
        const link = requireLink(state, command.keyLinkId);
        if (link.rotationDueFor === command.keySince) return [];
        const { keySince, maxAgeDays, why, policy } = command;
        return [
          {
            type: 'KeyRotationDue',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, keySince, maxAgeDays, why, ...(policy ? { policyId: policy.policyId, policyVersion: policy.version } : {}) },
          },
        ];
      }
      case 'RecordKeyRotation': {
        const link = requireLink(state, command.keyLinkId);
        const { fingerprint, keyVersion } = command;
        return [
          {
            type: 'KeyLinkRotated',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, ...(link.keyVersion ? { previousVersion: link.keyVersion } : {}), keyVersion, fingerprint },
          },
        ];
      }
      case 'RotateTenantKey': {
        const link = requireLink(state, command.keyLinkId);
        // Only workers serving an active link make L2 keys; a revoked link's keys are zeroised and stay unused.
        if (link.status !== 'active')
          throw invalidState('key-link.not-active', `key link ${command.keyLinkId} is ${link.status}; only an active link's tenant key rotates`, { keyLinkId: command.keyLinkId, linkStatus: link.status });
        const current = link.tenantKeyVersion ?? 1;
        // One rotation per due version: a second request for a version already replaced would skip a whole
        // lifetime of the next one.
        if (command.fromVersion !== undefined && command.fromVersion !== current)
          throw invalidState('tenant-key.version-moved', `key link ${command.keyLinkId} is at L2 version ${current}, not ${command.fromVersion}; that version was rotated already`, {
            keyLinkId: command.keyLinkId,
            fromVersion: command.fromVersion,
            currentVersion: current,
          });
        const { maxAgeDays, policy } = command;
        return [
          {
            type: 'TenantKeyRotationRequested',
            data: {
              keyLinkId: link.keyLinkId,
              tenantId: link.tenantId,
              previousL2Version: current,
              l2Version: current + 1,
              ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
              ...(policy ? { policyId: policy.policyId, policyVersion: policy.version } : {}),
            },
          },
        ];
      }
      case 'RevokeKeyLink': {
        const link = requireLink(state, command.keyLinkId);
        requireReason(command.reason);
        // Idempotent: revoking a revoked link is a no-op, never an error (stopping must be easy).
        if (link.status === 'revoked') return [];
        return [
          {
            type: 'KeyLinkRevoked',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, reason: command.reason, previousStatus: link.status as 'pending' | 'active' },
          },
        ];
      }
      case 'RestoreKeyLink': {
        const link = requireLink(state, command.keyLinkId);
        requireReason(command.reason);
        if (link.status !== 'revoked')
          throw invalidState('key-link.not-revoked', `key link ${command.keyLinkId} is ${link.status}; only a revoked link can be restored`, { keyLinkId: command.keyLinkId, status: link.status });
        requireTenantActive(command.tenant, link.tenantId);
        return [
          {
            type: 'KeyLinkRestored',
            data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, reason: command.reason, restoredStatus: link.revokedFrom ?? 'pending' },
          },
        ];
      }
      case 'UnlinkKey': {
        const link = requireLink(state, command.keyLinkId);
        requireReason(command.reason);
        if (link.status === 'active')
          throw invalidState('key-link.active', `key link ${command.keyLinkId} is active; revoke it before unlinking`, { keyLinkId: command.keyLinkId });
        return [{ type: 'KeyUnlinked', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId, reason: command.reason } }];
      }
    }
  },

  evolve(state, event): KeyLinkState {
    switch (event.type) {
      case 'KeyLinked':
        return { exists: true, status: 'pending', health: 'unknown', imported: false, imports: [], ...event.data };
      case 'KeyLinkActivated':
        return state.exists ? { ...state, status: 'active' } : state;
      case 'KeyPossessionProven':
        return state.exists ? { ...state, fingerprint: event.data.fingerprint, keyVersion: event.data.keyVersion ?? state.keyVersion, health: 'healthy' } : state;
      case 'KeyImportParametersIssued':
        return state.exists ? { ...state, imports: [...state.imports, { importToken: event.data.importToken, expiresAt: event.data.expiresAt }] } : state;
      case 'KeyMaterialImported':
        return state.exists ? { ...state, imported: true, imports: [], fingerprint: event.data.fingerprint, keyVersion: event.data.keyVersion } : state;
      case 'KeyLinkDegraded':
        return state.exists ? { ...state, health: event.data.condition } : state;
      case 'KeyLinkHealthRestored':
        return state.exists ? { ...state, health: 'healthy' } : state;
      case 'KeyVersionRotatedAtProvider':
      case 'KeyLinkRotated':
        return state.exists ? { ...state, keyVersion: event.data.keyVersion, fingerprint: event.data.fingerprint, rotationInProgress: undefined } : state;
      case 'KeyRotationStarted':
        return state.exists ? { ...state, rotationInProgress: { previousVersion: event.data.previousVersion } } : state;
      case 'KeyRotationDue':
        return state.exists ? { ...state, rotationInProgress: undefined, rotationDueFor: event.data.keySince } : state;
      case 'KeyLinkRevoked':
        return state.exists ? { ...state, status: 'revoked', revokedFrom: event.data.previousStatus, revocationReason: event.data.reason } : state;
      case 'KeyLinkRestored':
        return state.exists ? { ...state, status: event.data.restoredStatus, revokedFrom: undefined, revocationReason: undefined } : state;
      case 'KeyUnlinked':
        return state.exists ? { ...state, status: 'unlinked' } : state;
      case 'TenantKeyRotationRequested':
        // Counted, not read from the event: older events carry no version, and the views count the same way.
        return state.exists ? { ...state, tenantKeyVersion: (state.tenantKeyVersion ?? 1) + 1 } : state;
    }
  },
};
