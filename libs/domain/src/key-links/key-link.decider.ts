import { Decider } from '../shared/decider';
import { invalid, invalidState, notFound } from '../shared/errors';
import { isRegion } from '../shared/validation';
import { requireReason } from '../tenants/tenant.decider';
import { KEY_ALGORITHMS, KeyLinkCommand, LINK_MODES, PROVIDER_KINDS, TenantFact } from './key-link.commands';
import { KeyLinked, KeyLinkEvent } from './key-link.events';

export type KeyLinkStatus = 'pending' | 'active' | 'revoked' | 'unlinked';

export type KeyLinkState =
  | { exists: false }
  | ({ exists: true; status: KeyLinkStatus; revokedFrom?: 'pending' | 'active'; revocationReason?: string } & KeyLinked['data']);

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
        // Name the fields: whatever else the command object carries must not end up in the audit log.
        const { keyLinkId, tenantId, providerKind, mode, keyReference, algorithm, keySize, providerRegion } = command;
        return [{ type: 'KeyLinked', data: { keyLinkId, tenantId, providerKind, mode, keyReference, algorithm, keySize, providerRegion } }];
      }
      case 'ActivateKeyLink': {
        const link = requireLink(state, command.keyLinkId);
        // Revocation wins: only an explicit restore brings a revoked link back.
        if (link.status === 'revoked')
          throw invalidState('key-link.revoked', `key link ${command.keyLinkId} is revoked; only a restore can bring it back`, { keyLinkId: command.keyLinkId });
        requireTenantActive(command.tenant, link.tenantId);
        if (link.status === 'active') return [];
        return [{ type: 'KeyLinkActivated', data: { keyLinkId: link.keyLinkId, tenantId: link.tenantId } }];
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
        return { exists: true, status: 'pending', ...event.data };
      case 'KeyLinkActivated':
        return state.exists ? { ...state, status: 'active' } : state;
      case 'KeyLinkRevoked':
        return state.exists ? { ...state, status: 'revoked', revokedFrom: event.data.previousStatus, revocationReason: event.data.reason } : state;
      case 'KeyLinkRestored':
        return state.exists ? { ...state, status: event.data.restoredStatus, revokedFrom: undefined, revocationReason: undefined } : state;
      case 'KeyUnlinked':
        return state.exists ? { ...state, status: 'unlinked' } : state;
    }
  },
};
