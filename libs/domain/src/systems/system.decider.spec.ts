import { given } from '../testing';
import { KeyLinkFact } from './system.commands';
import { systemDecider as d } from './system.decider';
import type { SystemEvent } from './system.events';

const S = 's-1';
const T = 't-1';
const live: KeyLinkFact = { exists: true, tenantId: T, status: 'active' };
const register = { type: 'RegisterSystem' as const, systemId: S, tenantId: T, tenant: 'active' as const, name: 'billing', region: 'eu-central-1', keyLinkId: 'k-1', keyLink: live };
const registered: SystemEvent = { type: 'SystemRegistered', data: { systemId: S, tenantId: T, name: 'billing', region: 'eu-central-1', keyLinkId: 'k-1' } };

describe('system decider', () => {
  it('registers a system of an active tenant bound to its live link', () => void given(d).when(register).then([registered]));
  it.each([
    [{ tenant: 'missing' }, 'tenant.not-found'],
    [{ tenant: 'suspended' }, 'tenant.not-active'],
    [{ name: ' ' }, 'system.name'],
    [{ region: 'Mars' }, 'region.format'],
    [{ keyLink: { exists: false } }, 'key-link.not-found'],
    [{ keyLink: { exists: true, tenantId: 'other', status: 'active' } }, 'system.key-link-of-other-tenant'],
    [{ keyLink: { exists: true, tenantId: T, status: 'revoked' } }, 'system.key-link-not-bindable'],
    [{ keyLink: { exists: true, tenantId: T, status: 'unlinked' } }, 'system.key-link-not-bindable'],
  ])('refuses registration with %j (%s)', (over, code) => void given(d).when({ ...register, ...over } as never).thenThrows({ code }));
  it('binds to a pending link too', () => void given(d).when({ ...register, keyLink: { exists: true, tenantId: T, status: 'pending' } }).then([registered]));
  it('refuses a duplicate registration', () => void given(d, [registered]).when(register).thenThrows({ code: 'system.exists' }));

  it('rebinds to another link of the same tenant, idempotently', () => {
    given(d, [registered]).when({ type: 'RebindSystem', systemId: S, keyLinkId: 'k-2', keyLink: live }).then([
      { type: 'SystemRebound', data: { systemId: S, tenantId: T, fromKeyLinkId: 'k-1', toKeyLinkId: 'k-2' } },
    ]);
    given(d, [registered]).when({ type: 'RebindSystem', systemId: S, keyLinkId: 'k-1', keyLink: live }).thenNothing();
    given(d, [registered]).when({ type: 'RebindSystem', systemId: S, keyLinkId: 'k-9', keyLink: { exists: true, tenantId: 'other', status: 'active' } }).thenThrows({ code: 'system.key-link-of-other-tenant' });
    given(d).when({ type: 'RebindSystem', systemId: S, keyLinkId: 'k-2', keyLink: live }).thenThrows({ code: 'system.not-found' });
  });

  it('deregisters with a reason, idempotently, and then refuses rebinding', () => {
    const gone: SystemEvent = { type: 'SystemDeregistered', data: { systemId: S, tenantId: T, reason: 'decommissioned' } };
    given(d, [registered]).when({ type: 'DeregisterSystem', systemId: S, reason: 'decommissioned' }).then([gone]);
    given(d, [registered, gone]).when({ type: 'DeregisterSystem', systemId: S, reason: 'again' }).thenNothing();
    given(d, [registered, gone]).when({ type: 'RebindSystem', systemId: S, keyLinkId: 'k-2', keyLink: live }).thenThrows({ code: 'system.deregistered' });
    given(d, [registered]).when({ type: 'DeregisterSystem', systemId: S, reason: '' }).thenThrows({ code: 'reason.required' });
    given(d).when({ type: 'DeregisterSystem', systemId: S, reason: 'x' }).thenThrows({ code: 'system.not-found' });
  });
});
