import { Decider } from '../shared/decider';
import { invalid, invalidState, notFound } from '../shared/errors';
import { isRegion } from '../shared/validation';
import { requireReason } from '../tenants/tenant.decider';
import { KeyLinkFact, SystemCommand } from './system.commands';
import { SystemEvent, SystemRegistered } from './system.events';

export type SystemState =
  | { exists: false }
  | ({ exists: true; status: 'registered' | 'deregistered' } & SystemRegistered['data']);

/** A system may only be bound to a live link of its own tenant. */
function requireBindable(keyLink: KeyLinkFact, keyLinkId: string, tenantId: string): void {
  if (!keyLink.exists) throw notFound('key-link', keyLinkId);
  if (keyLink.tenantId !== tenantId)
    throw invalidState('system.key-link-of-other-tenant', `key link ${keyLinkId} belongs to another tenant`, { keyLinkId, field: 'keyLinkId' });
  if (keyLink.status === 'unlinked' || keyLink.status === 'revoked')
    throw invalidState('system.key-link-not-bindable', `key link ${keyLinkId} is ${keyLink.status}; bind systems to a pending or active link`, { keyLinkId, status: keyLink.status });
}

export const systemDecider: Decider<SystemCommand, SystemEvent, SystemState> = {
  initialState: { exists: false },

  decide(command, state): SystemEvent[] {
    switch (command.type) {
      case 'RegisterSystem': {
        if (state.exists) throw invalidState('system.exists', `system ${command.systemId} already exists`, { systemId: command.systemId });
        if (command.tenant === 'missing') throw notFound('tenant', command.tenantId);
        if (command.tenant !== 'active')
          throw invalidState('tenant.not-active', `tenant ${command.tenantId} is ${command.tenant}; systems can only be registered for an active tenant`, { tenantId: command.tenantId });
        if (!command.name?.trim()) throw invalid('system.name', 'name must not be empty', { field: 'name' });
        if (!isRegion(command.region)) throw invalid('region.format', `region "${command.region}" is not a region name like eu-central-1`, { field: 'region' });
        requireBindable(command.keyLink, command.keyLinkId, command.tenantId);
        return [
          {
            type: 'SystemRegistered',
            data: { systemId: command.systemId, tenantId: command.tenantId, name: command.name.trim(), region: command.region, keyLinkId: command.keyLinkId },
          },
        ];
      }
      case 'DeregisterSystem': {
        if (!state.exists) throw notFound('system', command.systemId);
        requireReason(command.reason);
        if (state.status === 'deregistered') return [];
        return [{ type: 'SystemDeregistered', data: { systemId: state.systemId, tenantId: state.tenantId, reason: command.reason } }];
      }
      case 'RebindSystem': {
        if (!state.exists) throw notFound('system', command.systemId);
        if (state.status === 'deregistered')
          throw invalidState('system.deregistered', `system ${command.systemId} is deregistered`, { systemId: command.systemId });
        requireBindable(command.keyLink, command.keyLinkId, state.tenantId);
        if (state.keyLinkId === command.keyLinkId) return [];
        return [
          {
            type: 'SystemRebound',
            data: { systemId: state.systemId, tenantId: state.tenantId, fromKeyLinkId: state.keyLinkId, toKeyLinkId: command.keyLinkId },
          },
        ];
      }
    }
  },

  evolve(state, event): SystemState {
    switch (event.type) {
      case 'SystemRegistered':
        return { exists: true, status: 'registered', ...event.data };
      case 'SystemDeregistered':
        return state.exists ? { ...state, status: 'deregistered' } : state;
      case 'SystemRebound':
        return state.exists ? { ...state, keyLinkId: event.data.toKeyLinkId } : state;
    }
  },
};
