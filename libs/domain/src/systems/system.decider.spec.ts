import { given } from '../testing';
import type { KeyLinkFact, SystemCommand } from './system.commands';
import { systemDecider as d } from './system.decider';
import type { SystemEvent } from './system.events';

const S = 's-1';
const T = 't-1';
const link = (status: 'pending' | 'active' | 'revoked' | 'unlinked', tenantId = T): KeyLinkFact => ({ exists: true, tenantId, status });
const live = link('active');
const register = { type: 'RegisterSystem' as const, systemId: S, tenantId: T, tenant: 'active' as const, name: 'billing', region: 'eu-central-1', keyLinkId: 'k-1', keyLink: live };
const registered: SystemEvent = { type: 'SystemRegistered', data: { systemId: S, tenantId: T, name: 'billing', region: 'eu-central-1', keyLinkId: 'k-1' } };
const deregistered: SystemEvent = { type: 'SystemDeregistered', data: { systemId: S, tenantId: T, reason: 'decommissioned' } };
const rebind = (keyLinkId: string, keyLink: KeyLinkFact = live): SystemCommand => ({ type: 'RebindSystem', systemId: S, keyLinkId, keyLink });
const rebound = (fromKeyLinkId: string, toKeyLinkId: string): SystemEvent => ({ type: 'SystemRebound', data: { systemId: S, tenantId: T, fromKeyLinkId, toKeyLinkId } });
const deregister = (reason = 'decommissioned'): SystemCommand => ({ type: 'DeregisterSystem', systemId: S, reason });

describe('system decider', () => {
  describe('RegisterSystem', () => {
    it('registers a system of an active tenant bound to its active link', () => void given(d).when(register).then([registered]));
    it('binds to a pending link of the same tenant too', () => void given(d).when({ ...register, keyLink: link('pending') }).then([registered]));
    it('trims the name', () => void given(d).when({ ...register, name: ' billing ' }).then([registered]));

    it.each([
      [{ tenant: 'missing' }, 'not-found', 'tenant.not-found'],
      [{ tenant: 'suspended' }, 'invalid-state', 'tenant.not-active'],
      [{ tenant: 'offboarded' }, 'invalid-state', 'tenant.not-active'],
      [{ name: ' ' }, 'validation', 'system.name'],
      [{ region: 'Mars' }, 'validation', 'region.format'],
      [{ keyLink: { exists: false } }, 'not-found', 'key-link.not-found'],
      [{ keyLink: link('active', 'other') }, 'invalid-state', 'system.key-link-of-other-tenant'],
      [{ keyLink: link('pending', 'other') }, 'invalid-state', 'system.key-link-of-other-tenant'],
      [{ keyLink: link('revoked') }, 'invalid-state', 'system.key-link-not-bindable'],
      [{ keyLink: link('unlinked') }, 'invalid-state', 'system.key-link-not-bindable'],
    ])('refuses registration with %j (%s %s)', (over, kind, code) => void given(d).when({ ...register, ...over } as never).thenThrows({ kind: kind as never, code }));

    it('refuses a command without a region', () => void given(d).when({ ...register, region: undefined } as never).thenThrows({ kind: 'validation', code: 'region.format' }));

    it('refuses a duplicate registration, also of a deregistered system', () => {
      given(d, [registered]).when(register).thenThrows({ kind: 'invalid-state', code: 'system.exists' });
      given(d, [registered, deregistered]).when(register).thenThrows({ code: 'system.exists' });
    });
  });

  describe('RebindSystem', () => {
    it('rebinds to another active or pending link of the same tenant', () => {
      given(d, [registered]).when(rebind('k-2')).then([rebound('k-1', 'k-2')]);
      given(d, [registered]).when(rebind('k-2', link('pending'))).then([rebound('k-1', 'k-2')]);
    });

    it('rebinding to the link it is bound to records nothing', () => void given(d, [registered]).when(rebind('k-1')).thenNothing());

    it('tracks the current link across rebinds', () => {
      given(d, [registered, rebound('k-1', 'k-2')]).when(rebind('k-2')).thenNothing();
      given(d, [registered, rebound('k-1', 'k-2')]).when(rebind('k-1')).then([rebound('k-2', 'k-1')]);
    });

    it.each([
      [{ exists: false } as KeyLinkFact, 'key-link.not-found'],
      [link('active', 'other'), 'system.key-link-of-other-tenant'],
      [link('revoked'), 'system.key-link-not-bindable'],
      [link('unlinked'), 'system.key-link-not-bindable'],
    ])('refuses rebinding to %j (%s)', (keyLink, code) => void given(d, [registered]).when(rebind('k-2', keyLink)).thenThrows({ code }));

    it('refuses unknown and deregistered systems', () => {
      given(d).when(rebind('k-2')).thenThrows({ kind: 'not-found', code: 'system.not-found' });
      given(d, [registered, deregistered]).when(rebind('k-2')).thenThrows({ kind: 'invalid-state', code: 'system.deregistered' });
    });
  });

  describe('DeregisterSystem', () => {
    it('deregisters with a reason', () => void given(d, [registered]).when(deregister()).then([deregistered]));
    it('deregistering a deregistered system records nothing', () => void given(d, [registered, deregistered]).when(deregister('again')).thenNothing());
    it('requires a reason and refuses unknown systems', () => {
      given(d, [registered]).when(deregister('')).thenThrows({ kind: 'validation', code: 'reason.required' });
      given(d).when(deregister()).thenThrows({ kind: 'not-found', code: 'system.not-found' });
    });
  });
});
