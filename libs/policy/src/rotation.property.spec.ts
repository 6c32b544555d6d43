import fc from 'fast-check';
import { looseningsOf } from './guardrails';
import type { PolicyInForce } from './key-strength.rule';
import { tenantKeyRotationStatus, type TenantKeyAge } from './rotation.rule';

const EPOCH = Date.parse('2026-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const age: fc.Arbitrary<TenantKeyAge> = fc.record({
  keyLinkId: fc.uuid(),
  tenantId: fc.uuid(),
  tenantKeyVersion: fc.integer({ min: 1, max: 50 }),
  tenantKeySince: fc.integer({ min: 0, max: 4000 * DAY }).map((ms) => new Date(EPOCH + ms).toISOString()),
});
const now = fc.integer({ min: 0, max: 8000 * DAY }).map((ms) => new Date(EPOCH + ms));
const maxAge = fc.integer({ min: 1, max: 3650 });
const l2Policy = (policyId: string, tenantKeyMaxAgeDays: number, tenantKeyWarningDays?: number): PolicyInForce => ({
  policyId,
  version: 1,
  document: { rotation: { tenantKeyMaxAgeDays, ...(tenantKeyWarningDays !== undefined ? { tenantKeyWarningDays } : {}) } },
});
const overdue = (policies: PolicyInForce[], link: TenantKeyAge, at: Date) => tenantKeyRotationStatus(policies, link, at)?.state === 'overdue';
const flagged = (policies: PolicyInForce[], link: TenantKeyAge, at: Date) => tenantKeyRotationStatus(policies, link, at) !== null;

describe('L2 rotation rule properties (fast-check)', () => {
  it('shortening the L2 maximum age never lets an overdue key off', () => {
    fc.assert(
      fc.property(maxAge, fc.integer({ min: 0, max: 3649 }), age, now, (max, shorter, link, at) => {
        const tight = Math.max(1, max - shorter);
        if (overdue([l2Policy('p', max)], link, at)) expect(overdue([l2Policy('p', tight)], link, at)).toBe(true);
      }),
    );
  });

  it('adding a policy (a narrower scope adding its own) never removes a finding', () => {
    fc.assert(
      fc.property(maxAge, maxAge, age, now, (wide, narrow, link, at) => {
        const before = tenantKeyRotationStatus([l2Policy('wide', wide)], link, at);
        const after = tenantKeyRotationStatus([l2Policy('wide', wide), l2Policy('narrow', narrow)], link, at);
        if (before?.state === 'overdue') expect(after?.state).toBe('overdue');
        if (before) expect(after).not.toBeNull();
      }),
    );
  });

  it('a key is overdue exactly when it is at least the strictest maximum age old', () => {
    fc.assert(
      fc.property(fc.array(maxAge, { minLength: 1, maxLength: 4 }), age, now, (maxima, link, at) => {
        const ageDays = Math.floor((at.getTime() - Date.parse(link.tenantKeySince)) / DAY);
        expect(overdue(maxima.map((m, i) => l2Policy(`p${i}`, m)), link, at)).toBe(ageDays >= Math.min(...maxima));
      }),
    );
  });

  it('a warning window only adds warnings, never hides an overdue key', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3650 }), fc.integer({ min: 1, max: 3649 }), age, now, (max, warning, link, at) => {
        const w = Math.min(warning, max - 1);
        expect(overdue([l2Policy('p', max, w)], link, at)).toBe(overdue([l2Policy('p', max)], link, at));
        if (flagged([l2Policy('p', max)], link, at)) expect(flagged([l2Policy('p', max, w)], link, at)).toBe(true);
      }),
    );
  });

  it('guardrails: a narrower L2 maximum is accepted exactly when it is not longer than the wider one', () => {
    fc.assert(
      fc.property(maxAge, maxAge, (wide, narrow) => {
        const found = looseningsOf({ rotation: { tenantKeyMaxAgeDays: narrow } }, [l2Policy('wide', wide)]);
        expect(found.map((f) => f.path)).toEqual(narrow > wide ? ['$.rotation.tenantKeyMaxAgeDays'] : []);
      }),
    );
  });
});
