import fc from 'fast-check';
import { approvalRequirement } from './approvals.rule';
import { looseningsOf } from './guardrails';
import { APPROVAL_ACTIONS, PolicyDocument, validatePolicyDocument } from './policy-document';

const inForce = (document: PolicyDocument, policyId = 'p', version = 1) => ({ policyId, version, document });

describe('four-eyes approvals from policy', () => {
  it('defaults: restoring, unlinking, offboarding and policy changes need 2 approvers; linking needs none', () => {
    expect(approvalRequirement('key-link.restore', [])).toMatchObject({ approvers: 2, expiryHours: 168, setBy: [] });
    expect(approvalRequirement('key-link.unlink', []).approvers).toBe(2);
    expect(approvalRequirement('tenant.offboard', []).approvers).toBe(2);
    expect(approvalRequirement('policy.change', []).approvers).toBe(2);
    expect(approvalRequirement('key-link.link', []).approvers).toBe(0);
  });

  it('the strictest policy in force wins: the most approvers and the shortest expiry, naming who set them', () => {
    const req = approvalRequirement('key-link.restore', [
      inForce({ approvals: { required: { 'key-link.restore': 3 }, expiryHours: 72 } }, 'global'),
      inForce({ approvals: { required: { 'key-link.restore': 1 }, expiryHours: 24 } }, 'tenant'),
    ]);
    expect(req).toEqual({ action: 'key-link.restore', approvers: 3, expiryHours: 24, setBy: [{ policyId: 'global', version: 1 }, { policyId: 'tenant', version: 1 }] });
  });

  it('refuses approvals for stopping (revoke, kill switch), unknown actions and bad counts, at their paths', () => {
    const errors = validatePolicyDocument({ approvals: { required: { 'key-link.revoke': 1, 'kill-switch.fire': 2, 'key-link.delete': 1, 'key-link.restore': 11 }, expiryHours: 0 } });
    expect(errors.map((e) => e.path)).toEqual([
      '$.approvals.required.key-link.revoke',
      '$.approvals.required.kill-switch.fire',
      '$.approvals.required.key-link.delete',
      '$.approvals.required.key-link.restore',
      '$.approvals.expiryHours',
    ]);
    expect(errors[0].message).toMatch(/stopping must stay easy/);
  });

  it('a narrower scope may require more approvers, never fewer, and may shorten the expiry, never lengthen it', () => {
    const wide = inForce({ approvals: { required: { 'key-link.unlink': 2 }, expiryHours: 48 } }, 'global');
    expect(looseningsOf({ approvals: { required: { 'key-link.unlink': 3 }, expiryHours: 24 } }, [wide])).toEqual([]);
    expect(looseningsOf({ approvals: { required: { 'key-link.unlink': 1 }, expiryHours: 96 } }, [wide]).map((l) => l.path)).toEqual([
      '$.approvals.required.key-link.unlink',
      '$.approvals.expiryHours',
    ]);
  });

  it('property: adding a policy never lowers the approvers an action needs', () => {
    const doc = fc.record({ approvals: fc.record({ required: fc.dictionary(fc.constantFrom(...APPROVAL_ACTIONS), fc.integer({ min: 0, max: 10 })) }) }) as fc.Arbitrary<PolicyDocument>;
    fc.assert(
      fc.property(fc.array(doc, { maxLength: 4 }), doc, fc.constantFrom(...APPROVAL_ACTIONS), (docs, extra, action) => {
        const before = approvalRequirement(action, docs.map((d, i) => inForce(d, `p${i}`)));
        const after = approvalRequirement(action, [...docs, extra].map((d, i) => inForce(d, `p${i}`)));
        const explicit = docs.some((d) => d.approvals?.required?.[action] !== undefined);
        // Once any policy sets the count explicitly, more policies can only raise it.
        if (explicit) expect(after.approvers).toBeGreaterThanOrEqual(before.approvers);
      }),
    );
  });
});
