import { given } from '../testing';
import type { TenantCommand } from './tenant.commands';
import { tenantDecider as d } from './tenant.decider';
import type { TenantEvent } from './tenant.events';

const T = 't-1';
const onboarded: TenantEvent = {
  type: 'TenantOnboarded',
  data: { tenantId: T, displayName: 'ACME', jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'confidential', contacts: [{ name: 'Ada', email: 'ada@acme.example' }] },
};
const onboard = { type: 'OnboardTenant' as const, ...onboarded.data };
const suspended: TenantEvent = { type: 'TenantSuspended', data: { tenantId: T, reason: 'unpaid' } };
const resumed: TenantEvent = { type: 'TenantResumed', data: { tenantId: T } };
const offboarded: TenantEvent = { type: 'TenantOffboarded', data: { tenantId: T, reason: 'ended' } };

const update = (changes: Partial<Omit<Extract<TenantCommand, { type: 'UpdateTenant' }>, 'type' | 'tenantId'>>): TenantCommand => ({ type: 'UpdateTenant', tenantId: T, ...changes });
const suspend = (reason = 'unpaid'): TenantCommand => ({ type: 'SuspendTenant', tenantId: T, reason });
const resume = (reason?: string): TenantCommand => ({ type: 'ResumeTenant', tenantId: T, ...(reason === undefined ? {} : { reason }) });
const offboard = (activeKeyLinkIds: string[] = [], reason = 'ended'): TenantCommand => ({ type: 'OffboardTenant', tenantId: T, reason, activeKeyLinkIds });

describe('tenant decider', () => {
  describe('OnboardTenant', () => {
    it('onboards a new tenant as an active one', () => void given(d).when(onboard).then([onboarded]));

    it('trims the display name and defaults missing contacts to none', () => {
      given(d).when({ ...onboard, displayName: '  ACME  ' }).then([onboarded]);
      given(d).when({ ...onboard, contacts: undefined as never }).then([{ type: 'TenantOnboarded', data: { ...onboarded.data, contacts: [] } }]);
    });

    it('records only the declared fields, whatever else the command object carries', () => {
      given(d).when({ ...onboard, apiToken: 'secret' } as never).then([onboarded]);
    });

    it('refuses a second onboarding, even after offboarding', () => {
      given(d, [onboarded]).when(onboard).thenThrows({ kind: 'invalid-state', code: 'tenant.exists' });
      given(d, [onboarded, offboarded]).when(onboard).thenThrows({ kind: 'invalid-state', code: 'tenant.exists' });
    });

    it.each([
      [{ displayName: '  ' }, 'tenant.displayName'],
      [{ jurisdiction: 'MARS' }, 'tenant.jurisdiction'],
      [{ dataClassification: 'secret' }, 'tenant.dataClassification'],
      [{ homeRegion: 'EU Central' }, 'region.format'],
      [{ homeRegion: 'eu-' + 'x'.repeat(62) }, 'region.format'],
      [{ contacts: [{ name: '', email: 'a@b.c' }] }, 'tenant.contact.name'],
      [{ contacts: [{ name: 'A', email: 'nope' }] }, 'tenant.contact.email'],
      [{ contacts: [{ name: 'A', email: 'a@b.c' }, { name: 'B', email: 'b@@c.d' }] }, 'tenant.contact.email'],
    ])('refuses onboarding with %j (%s)', (over, code) => void given(d).when({ ...onboard, ...over } as never).thenThrows({ kind: 'validation', code }));

    it('refuses a command without a display name or home region', () => {
      given(d).when({ ...onboard, displayName: undefined } as never).thenThrows({ kind: 'validation', code: 'tenant.displayName' });
      given(d).when({ ...onboard, homeRegion: undefined } as never).thenThrows({ kind: 'validation', code: 'region.format' });
    });

    it('names the offending contact in the error', () => {
      const error = given(d).when({ ...onboard, contacts: [{ name: 'A', email: 'a@b.c' }, { name: 'B', email: 'nope' }] }).thenThrows({ code: 'tenant.contact.email' });
      expect(error.details).toEqual({ field: 'contacts[1].email' });
    });
  });

  describe('UpdateTenant', () => {
    it('records only what changed', () => {
      given(d, [onboarded]).when(update({ displayName: 'ACME 2', homeRegion: 'eu-central-1' })).then([{ type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME 2' } } }]);
      given(d, [onboarded]).when(update({ homeRegion: 'eu-west-1', dataClassification: 'restricted', contacts: [] })).then([
        { type: 'TenantUpdated', data: { tenantId: T, changes: { homeRegion: 'eu-west-1', dataClassification: 'restricted', contacts: [] } } },
      ]);
    });

    it('folds earlier updates into the state it compares against', () => {
      const renamed: TenantEvent = { type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME 2' } } };
      given(d, [onboarded, renamed]).when(update({ displayName: 'ACME 2' })).thenNothing();
      given(d, [onboarded, renamed]).when(update({ displayName: 'ACME' })).then([{ type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME' } } }]);
    });

    it('records nothing when nothing changed', () => {
      given(d, [onboarded]).when(update({ displayName: 'ACME' })).thenNothing();
      given(d, [onboarded]).when(update({})).thenNothing();
    });

    it('compares by content: padding around the name or key order in contacts is no change', () => {
      given(d, [onboarded]).when(update({ displayName: ' ACME ' })).thenNothing();
      // JSONB hands contacts back with its own key order; resubmitting the same contacts is not a change
      given(d, [onboarded]).when(update({ contacts: [{ email: 'ada@acme.example', name: 'Ada' }] })).thenNothing();
    });

    it('stores a new display name trimmed', () => {
      given(d, [onboarded]).when(update({ displayName: ' ACME 2 ' })).then([{ type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME 2' } } }]);
    });

    it('updates a suspended tenant', () => {
      given(d, [onboarded, suspended]).when(update({ displayName: 'ACME 2' })).then([{ type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME 2' } } }]);
    });

    it('refuses updates of unknown or offboarded tenants', () => {
      given(d).when(update({ displayName: 'x' })).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
      given(d, [onboarded, offboarded]).when(update({ displayName: 'x' })).thenThrows({ kind: 'invalid-state', code: 'tenant.offboarded' });
    });

    it.each([
      [{ displayName: '' }, 'tenant.displayName'],
      [{ dataClassification: 'x' }, 'tenant.dataClassification'],
      [{ homeRegion: 'X' }, 'region.format'],
      [{ contacts: [{ name: ' ', email: 'a@b.c' }] }, 'tenant.contact.name'],
      [{ contacts: [{ name: 'A', email: 'a@b' }] }, 'tenant.contact.email'],
    ])('refuses updating to %j (%s)', (over, code) => void given(d, [onboarded]).when(update(over as never)).thenThrows({ kind: 'validation', code }));
  });

  describe('SuspendTenant and ResumeTenant', () => {
    it('suspends an active tenant with a reason', () => void given(d, [onboarded]).when(suspend()).then([suspended]));
    it('suspending a suspended tenant records nothing', () => void given(d, [onboarded, suspended]).when(suspend('again')).thenNothing());
    it('resumes a suspended tenant, with or without a reason', () => {
      given(d, [onboarded, suspended]).when(resume()).then([resumed]);
      given(d, [onboarded, suspended]).when(resume('paid')).then([{ type: 'TenantResumed', data: { tenantId: T, reason: 'paid' } }]);
    });
    it('resuming an active tenant records nothing', () => {
      given(d, [onboarded]).when(resume()).thenNothing();
      given(d, [onboarded, suspended, resumed]).when(resume()).thenNothing();
    });
    it('can suspend again after resuming', () => void given(d, [onboarded, suspended, resumed]).when(suspend()).then([suspended]));

    it('requires a reason to suspend', () => {
      given(d, [onboarded]).when(suspend(' ')).thenThrows({ kind: 'validation', code: 'reason.required' });
      given(d, [onboarded]).when({ type: 'SuspendTenant', tenantId: T } as never).thenThrows({ code: 'reason.required' });
    });
    it('refuses unknown tenants', () => {
      given(d).when(suspend()).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
      given(d).when(resume()).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
    });
  });

  describe('OffboardTenant', () => {
    it('offboards an active or suspended tenant without active key links', () => {
      given(d, [onboarded]).when(offboard()).then([offboarded]);
      given(d, [onboarded, suspended]).when(offboard()).then([offboarded]);
    });

    it('refuses offboarding while key links are active (tenant.has-active-key-links), naming them', () => {
      const error = given(d, [onboarded]).when(offboard(['k1', 'k2'])).thenThrows({ kind: 'invalid-state', code: 'tenant.has-active-key-links' });
      expect(error.details).toEqual({ tenantId: T, activeKeyLinkIds: ['k1', 'k2'] });
      expect(error.message).toMatch(/2 active key link/);
      given(d, [onboarded, suspended]).when(offboard(['k1'])).thenThrows({ code: 'tenant.has-active-key-links' });
    });

    it('requires a reason, and refuses unknown tenants', () => {
      given(d, [onboarded]).when(offboard([], '')).thenThrows({ kind: 'validation', code: 'reason.required' });
      given(d).when(offboard()).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
    });
  });

  describe('an offboarded tenant refuses everything', () => {
    it.each<[string, TenantCommand, string]>([
      ['OnboardTenant', onboard, 'tenant.exists'],
      ['UpdateTenant', update({ displayName: 'x' }), 'tenant.offboarded'],
      ['UpdateTenant (no change)', update({}), 'tenant.offboarded'],
      ['SuspendTenant', suspend(), 'tenant.offboarded'],
      ['ResumeTenant', resume('back'), 'tenant.offboarded'],
      ['OffboardTenant', offboard(), 'tenant.offboarded'],
      ['OffboardTenant (with active links)', offboard(['k1']), 'tenant.offboarded'],
    ])('%s', (_name, command, code) => {
      given(d, [onboarded, offboarded]).when(command).thenThrows({ kind: 'invalid-state', code });
      given(d, [onboarded, suspended, offboarded]).when(command).thenThrows({ kind: 'invalid-state', code });
    });
  });

  describe('evolve', () => {
    it('ignores events for a tenant it has never seen', () => {
      expect(d.evolve(d.initialState, suspended)).toEqual({ exists: false });
    });
  });
});
