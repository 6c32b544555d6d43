import type { PolicyInForce } from './key-strength.rule';
import { rotationStatus, tenantKeyRotationStatus } from './rotation.rule';

const link = { keyLinkId: 'k', tenantId: 't', createdAt: '2026-01-01T00:00:00.000Z' };
const at = (days: number) => new Date(Date.parse(link.createdAt) + days * 86_400_000);
const p = (policyId: string, maxAgeDays: number, warningDays?: number): PolicyInForce => ({ policyId, version: 2, document: { rotation: { maxAgeDays, warningDays } } });

describe('rotationStatus', () => {
  it('says nothing without a maximum age, or for a young key', () => {
    expect(rotationStatus([], link, at(1000))).toBeNull();
    expect(rotationStatus([{ policyId: 'x', version: 1, document: {} }], link, at(1000))).toBeNull();
    expect(rotationStatus([p('a', 90, 14)], link, at(75))).toBeNull();
  });

  it('warns inside the window and reports overdue at the maximum age', () => {
    expect(rotationStatus([p('a', 90, 14)], link, at(76))).toMatchObject({ state: 'warning', ageDays: 76, maxAgeDays: 90, policyId: 'a', policyVersion: 2 });
    expect(rotationStatus([p('a', 90, 14)], link, at(90))).toMatchObject({ state: 'overdue', ageDays: 90 });
  });

  it('takes the strictest maximum in force', () => {
    expect(rotationStatus([p('loose', 365, 30), p('tight', 30)], link, at(40))).toMatchObject({ state: 'overdue', maxAgeDays: 30, policyId: 'tight' });
  });
});

describe('tenantKeyRotationStatus (L2)', () => {
  const l2 = { keyLinkId: 'k', tenantId: 't', tenantKeyVersion: 3, tenantKeySince: '2026-01-01T00:00:00.000Z' };
  const q = (policyId: string, rotation: NonNullable<PolicyInForce['document']['rotation']>, version = 5): PolicyInForce => ({ policyId, version, document: { rotation } });

  it('says nothing without an L2 maximum age, even when an L1 one is set', () => {
    expect(tenantKeyRotationStatus([], l2, at(1000))).toBeNull();
    expect(tenantKeyRotationStatus([q('l1', { maxAgeDays: 1, warningDays: 0 })], l2, at(1000))).toBeNull();
  });

  it('counts from the version it is about, warns inside its own window, and is overdue at the maximum', () => {
    const policies = [q('a', { maxAgeDays: 365, warningDays: 300, tenantKeyMaxAgeDays: 30, tenantKeyWarningDays: 5 })];
    expect(tenantKeyRotationStatus(policies, l2, at(24))).toBeNull();
    expect(tenantKeyRotationStatus(policies, l2, at(25))).toEqual({
      keyLinkId: 'k',
      tenantId: 't',
      tenantKeyVersion: 3,
      since: l2.tenantKeySince,
      ageDays: 25,
      maxAgeDays: 30,
      state: 'warning',
      policyId: 'a',
      policyVersion: 5,
    });
    expect(tenantKeyRotationStatus(policies, l2, at(30))).toMatchObject({ state: 'overdue', ageDays: 30, tenantKeyVersion: 3 });
  });

  it('takes the strictest L2 maximum in force, with that policy and version', () => {
    const found = tenantKeyRotationStatus([q('loose', { tenantKeyMaxAgeDays: 90 }, 1), q('tight', { tenantKeyMaxAgeDays: 7 }, 4)], l2, at(8));
    expect(found).toMatchObject({ state: 'overdue', maxAgeDays: 7, policyId: 'tight', policyVersion: 4 });
  });

  it('leaves the L1 finding to the L1 fields only', () => {
    expect(rotationStatus([q('l2', { tenantKeyMaxAgeDays: 1 })], link, at(1000))).toBeNull();
  });
});
