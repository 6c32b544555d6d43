import type { PolicyInForce } from './key-strength.rule';
import { rotationStatus } from './rotation.rule';

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
