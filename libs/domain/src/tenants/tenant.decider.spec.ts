import { given } from '../testing';
import { tenantDecider as d } from './tenant.decider';
import type { TenantEvent } from './tenant.events';

const T = 't-1';
const onboarded: TenantEvent = {
  type: 'TenantOnboarded',
  data: { tenantId: T, displayName: 'ACME', jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'confidential', contacts: [{ name: 'Ada', email: 'ada@acme.example' }] },
};
const onboard = { type: 'OnboardTenant' as const, ...onboarded.data };
const suspended: TenantEvent = { type: 'TenantSuspended', data: { tenantId: T, reason: 'unpaid' } };
const offboarded: TenantEvent = { type: 'TenantOffboarded', data: { tenantId: T, reason: 'ended' } };

describe('tenant decider', () => {
  it('onboards a new tenant', () => void given(d).when(onboard).then([onboarded]));
  it('refuses a second onboarding', () => void given(d, [onboarded]).when(onboard).thenThrows({ kind: 'invalid-state', code: 'tenant.exists' }));
  it.each([
    [{ displayName: '  ' }, 'tenant.displayName'],
    [{ jurisdiction: 'MARS' }, 'tenant.jurisdiction'],
    [{ dataClassification: 'secret' }, 'tenant.dataClassification'],
    [{ homeRegion: 'EU Central' }, 'region.format'],
    [{ contacts: [{ name: '', email: 'a@b.c' }] }, 'tenant.contact.name'],
    [{ contacts: [{ name: 'A', email: 'nope' }] }, 'tenant.contact.email'],
  ])('refuses onboarding with %j (%s)', (over, code) => void given(d).when({ ...onboard, ...over } as never).thenThrows({ kind: 'validation', code }));

  it('updates only what changed, and records nothing when nothing did', () => {
    given(d, [onboarded]).when({ type: 'UpdateTenant', tenantId: T, displayName: 'ACME 2', homeRegion: 'eu-central-1' }).then([{ type: 'TenantUpdated', data: { tenantId: T, changes: { displayName: 'ACME 2' } } }]);
    given(d, [onboarded]).when({ type: 'UpdateTenant', tenantId: T, displayName: 'ACME' }).thenNothing();
  });
  it('refuses updates of unknown or offboarded tenants and bad values', () => {
    given(d).when({ type: 'UpdateTenant', tenantId: T, displayName: 'x' }).thenThrows({ kind: 'not-found', code: 'tenant.not-found' });
    given(d, [onboarded, offboarded]).when({ type: 'UpdateTenant', tenantId: T, displayName: 'x' }).thenThrows({ code: 'tenant.offboarded' });
    given(d, [onboarded]).when({ type: 'UpdateTenant', tenantId: T, displayName: '' }).thenThrows({ code: 'tenant.displayName' });
    given(d, [onboarded]).when({ type: 'UpdateTenant', tenantId: T, dataClassification: 'x' as never }).thenThrows({ code: 'tenant.dataClassification' });
    given(d, [onboarded]).when({ type: 'UpdateTenant', tenantId: T, homeRegion: 'X' }).thenThrows({ code: 'region.format' });
  });

  it('suspends and resumes, idempotently', () => {
    given(d, [onboarded]).when({ type: 'SuspendTenant', tenantId: T, reason: 'unpaid' }).then([suspended]);
    given(d, [onboarded, suspended]).when({ type: 'SuspendTenant', tenantId: T, reason: 'again' }).thenNothing();
    given(d, [onboarded, suspended]).when({ type: 'ResumeTenant', tenantId: T }).then([{ type: 'TenantResumed', data: { tenantId: T } }]);
    given(d, [onboarded]).when({ type: 'ResumeTenant', tenantId: T }).thenNothing();
  });
  it('requires a reason to suspend and refuses unknown tenants', () => {
    given(d, [onboarded]).when({ type: 'SuspendTenant', tenantId: T, reason: ' ' }).thenThrows({ code: 'reason.required' });
    given(d).when({ type: 'SuspendTenant', tenantId: T, reason: 'x' }).thenThrows({ code: 'tenant.not-found' });
    given(d).when({ type: 'ResumeTenant', tenantId: T }).thenThrows({ code: 'tenant.not-found' });
  });

  it('offboards a tenant without active links, finally', () => {
    given(d, [onboarded]).when({ type: 'OffboardTenant', tenantId: T, reason: 'ended', activeKeyLinkIds: [] }).then([offboarded]);
    given(d, [onboarded, offboarded]).when({ type: 'ResumeTenant', tenantId: T }).thenThrows({ code: 'tenant.offboarded' });
    given(d, [onboarded, offboarded]).when({ type: 'OffboardTenant', tenantId: T, reason: 'again', activeKeyLinkIds: [] }).thenThrows({ code: 'tenant.offboarded' });
  });
  it('refuses offboarding while key links are active, naming them', () => {
    const error = given(d, [onboarded]).when({ type: 'OffboardTenant', tenantId: T, reason: 'ended', activeKeyLinkIds: ['k1'] }).thenThrows({ kind: 'invalid-state', code: 'tenant.has-active-key-links' });
    expect((error as { details: unknown }).details).toMatchObject({ activeKeyLinkIds: ['k1'] });
    given(d, [onboarded]).when({ type: 'OffboardTenant', tenantId: T, reason: '', activeKeyLinkIds: [] }).thenThrows({ code: 'reason.required' });
  });
});
