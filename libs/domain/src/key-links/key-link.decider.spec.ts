import fc from 'fast-check';
import { given } from '../testing';
import { KeyLinkCommand, TenantFact } from './key-link.commands';
import { keyLinkDecider as d } from './key-link.decider';
import type { KeyLinkEvent } from './key-link.events';

const K = 'k-1';
const T = 't-1';
const linked: KeyLinkEvent = {
  type: 'KeyLinked',
  data: { keyLinkId: K, tenantId: T, providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=a;object=b', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
};
const link = { type: 'LinkKey' as const, ...linked.data, tenant: 'active' as TenantFact };
const activated: KeyLinkEvent = { type: 'KeyLinkActivated', data: { keyLinkId: K, tenantId: T } };
const revokedFromActive: KeyLinkEvent = { type: 'KeyLinkRevoked', data: { keyLinkId: K, tenantId: T, reason: 'incident', previousStatus: 'active' } };
const unlinked: KeyLinkEvent = { type: 'KeyUnlinked', data: { keyLinkId: K, tenantId: T, reason: 'retired' } };

describe('key link decider', () => {
  it('links a key for an active tenant as pending', () => void given(d).when(link).then([linked]));
  it.each([
    ['missing', 'tenant.not-found'],
    ['suspended', 'tenant.not-active'],
    ['offboarded', 'tenant.not-active'],
  ])('refuses linking for a %s tenant', (tenant, code) => void given(d).when({ ...link, tenant: tenant as TenantFact }).thenThrows({ code }));
  it.each([
    [{ providerKind: 'vault' }, 'key-link.providerKind'],
    [{ mode: 'BYOB' }, 'key-link.mode'],
    [{ algorithm: 'DES' }, 'key-link.algorithm'],
    [{ keySize: 100 }, 'key-link.keySize'],
    [{ algorithm: 'RSA', keySize: 256 }, 'key-link.keySize'],
    [{ keyReference: ' ' }, 'key-link.keyReference'],
    [{ providerRegion: 'Frankfurt!' }, 'region.format'],
  ])('refuses %j (%s)', (over, code) => void given(d).when({ ...link, ...over } as never).thenThrows({ kind: 'validation', code }));
  it('refuses a second link with the same id', () => void given(d, [linked]).when(link).thenThrows({ code: 'key-link.exists' }));

  it('activates once, then is idempotent; re-checks the tenant', () => {
    given(d, [linked]).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }).then([activated]);
    given(d, [linked, activated]).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }).thenNothing();
    given(d, [linked]).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'suspended' }).thenThrows({ code: 'tenant.not-active' });
    given(d).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }).thenThrows({ code: 'key-link.not-found' });
  });

  it('revokes pending or active links, idempotently, with a reason', () => {
    given(d, [linked, activated]).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'incident' }).then([revokedFromActive]);
    given(d, [linked]).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'x' }).then([{ type: 'KeyLinkRevoked', data: { keyLinkId: K, tenantId: T, reason: 'x', previousStatus: 'pending' } }]);
    given(d, [linked, activated, revokedFromActive]).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'again' }).thenNothing();
    given(d, [linked]).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: '' }).thenThrows({ code: 'reason.required' });
    given(d).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'x' }).thenThrows({ code: 'key-link.not-found' });
  });

  it('revocation wins: activation cannot undo it, only restore can, back to the status it had', () => {
    given(d, [linked, activated, revokedFromActive]).when({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }).thenThrows({ code: 'key-link.revoked' });
    given(d, [linked, activated, revokedFromActive]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'fixed', tenant: 'active' }).then([
      { type: 'KeyLinkRestored', data: { keyLinkId: K, tenantId: T, reason: 'fixed', restoredStatus: 'active' } },
    ]);
    const revokedPending: KeyLinkEvent = { type: 'KeyLinkRevoked', data: { keyLinkId: K, tenantId: T, reason: 'x', previousStatus: 'pending' } };
    given(d, [linked, revokedPending]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'fixed', tenant: 'active' }).then([
      { type: 'KeyLinkRestored', data: { keyLinkId: K, tenantId: T, reason: 'fixed', restoredStatus: 'pending' } },
    ]);
  });
  it('refuses restoring what is not revoked, without a reason, or for an inactive tenant', () => {
    given(d, [linked, activated]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'x', tenant: 'active' }).thenThrows({ code: 'key-link.not-revoked' });
    given(d, [linked, activated, revokedFromActive]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: '', tenant: 'active' }).thenThrows({ code: 'reason.required' });
    given(d, [linked, activated, revokedFromActive]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'x', tenant: 'offboarded' }).thenThrows({ code: 'tenant.not-active' });
  });

  it('unlinks revoked or pending links; an active link must be revoked first; unlinking is final', () => {
    given(d, [linked, activated, revokedFromActive]).when({ type: 'UnlinkKey', keyLinkId: K, reason: 'retired' }).then([unlinked]);
    given(d, [linked]).when({ type: 'UnlinkKey', keyLinkId: K, reason: 'retired' }).then([unlinked]);
    given(d, [linked, activated]).when({ type: 'UnlinkKey', keyLinkId: K, reason: 'retired' }).thenThrows({ code: 'key-link.active' });
    given(d, [linked, unlinked]).when({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'x', tenant: 'active' }).thenThrows({ code: 'key-link.unlinked' });
    given(d, [linked, unlinked]).when({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'x' }).thenThrows({ code: 'key-link.unlinked' });
    given(d, [linked]).when({ type: 'UnlinkKey', keyLinkId: K, reason: ' ' }).thenThrows({ code: 'reason.required' });
  });

  it('property: once revoked, only a restore event ever leaves the revoked status', () => {
    const command = fc.oneof(
      fc.constant<KeyLinkCommand>({ type: 'ActivateKeyLink', keyLinkId: K, tenant: 'active' }),
      fc.constant<KeyLinkCommand>({ type: 'RevokeKeyLink', keyLinkId: K, reason: 'r' }),
      fc.constant<KeyLinkCommand>({ type: 'RestoreKeyLink', keyLinkId: K, reason: 'r', tenant: 'active' }),
      fc.constant<KeyLinkCommand>({ type: 'UnlinkKey', keyLinkId: K, reason: 'r' }),
      fc.constant<KeyLinkCommand>(link),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        let state = d.evolve(d.initialState, linked);
        for (const c of commands) {
          let events: KeyLinkEvent[] = [];
          try {
            events = d.decide(c, state);
          } catch {
            continue;
          }
          for (const e of events) {
            const wasRevoked = state.exists && state.status === 'revoked';
            state = d.evolve(state, e);
            if (wasRevoked && state.exists && state.status !== 'revoked' && state.status !== 'unlinked') expect(e.type).toBe('KeyLinkRestored');
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
