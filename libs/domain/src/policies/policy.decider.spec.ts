import type { PolicyDocument } from '@cmk/policy';
import { given } from '../testing';
import type { PolicyCommand, PolicyFact, PolicyScopeCommand } from './policy.commands';
import { latestVersion, policyDecider as d, policyScopeDecider as scope } from './policy.decider';
import type { PolicyEvent, PolicyScopeEvent } from './policy.events';

const P = 'p-1';
const doc: PolicyDocument = { keyStrength: { minimumBits: { AES: 256 } } };
const next: PolicyDocument = { keyStrength: { minimumBits: { AES: 256, RSA: 3072 } } };
const defined: PolicyEvent = { type: 'PolicyDefined', data: { policyId: P, name: 'baseline', version: 1, document: doc } };
const revised = (version: number, document: PolicyDocument): PolicyEvent => ({ type: 'PolicyRevised', data: { policyId: P, version, document } });
const define = (over: Partial<Extract<PolicyCommand, { type: 'DefinePolicy' }>> = {}): PolicyCommand => ({ type: 'DefinePolicy', policyId: P, name: 'baseline', document: doc, ...over });
const revise = (document: unknown, basedOnVersion?: number): PolicyCommand => ({
  type: 'RevisePolicy',
  policyId: P,
  document: document as PolicyDocument,
  ...(basedOnVersion === undefined ? {} : { basedOnVersion }),
});

/** The paths of the field errors a `policy.document` refusal carries. */
const errorPaths = (error: { details: Record<string, unknown> }) => (error.details.errors as { path: string }[]).map((e) => e.path);

describe('policy decider', () => {
  describe('DefinePolicy', () => {
    it('defines version 1', () => void given(d).when(define()).then([defined]));
    it('keeps a description and trims the name', () => {
      given(d).when(define({ name: ' baseline ', description: 'AES-256 everywhere' })).then([
        { type: 'PolicyDefined', data: { policyId: P, name: 'baseline', description: 'AES-256 everywhere', version: 1, document: doc } },
      ]);
    });
    it('accepts an empty document, which constrains nothing', () => {
      given(d).when(define({ document: {} })).then([{ type: 'PolicyDefined', data: { policyId: P, name: 'baseline', version: 1, document: {} } }]);
    });

    it('refuses a redefinition', () => {
      given(d, [defined]).when(define({ name: 'x' })).thenThrows({ kind: 'invalid-state', code: 'policy.exists' });
      given(d, [defined, revised(2, next)]).when(define()).thenThrows({ code: 'policy.exists' });
    });
    it('refuses an empty name', () => void given(d).when(define({ name: ' ' })).thenThrows({ kind: 'validation', code: 'policy.name' }));

    it('refuses an invalid document, listing every error with its path', () => {
      const error = given(d).when(define({ document: { keyStrength: { minimumBits: { RSA: 0 } }, extra: 1 } as never })).thenThrows({ kind: 'validation', code: 'policy.document' });
      expect(errorPaths(error)).toEqual(['$.extra', '$.keyStrength.minimumBits.RSA']);
      expect(error.details.field).toBe('$.extra');
      expect(error.message).toMatch(/\$\.extra: unknown field/);
      expect(error.message).toMatch(/\$\.keyStrength\.minimumBits\.RSA: must be a positive integer/);
    });
    it('refuses a document that is not an object', () => {
      const error = given(d).when(define({ document: 'AES only' as never })).thenThrows({ code: 'policy.document' });
      expect(errorPaths(error)).toEqual(['$']);
    });
  });

  describe('RevisePolicy', () => {
    it('revises into a new version, never in place', () => {
      given(d, [defined]).when(revise(next)).then([revised(2, next)]);
      given(d, [defined, revised(2, next)]).when(revise(doc)).then([revised(3, doc)]);
    });

    it('accepts a change based on the latest version', () => {
      given(d, [defined]).when(revise(next, 1)).then([revised(2, next)]);
      given(d, [defined, revised(2, next)]).when(revise(doc, 2)).then([revised(3, doc)]);
    });

    it('revising with the identical document records nothing', () => {
      given(d, [defined]).when(revise(doc)).thenNothing();
      given(d, [defined, revised(2, next)]).when(revise(next)).thenNothing();
    });

    it('compares documents by content, not by key order (JSONB reorders keys)', () => {
      const full: PolicyDocument = { keyStrength: { allowedAlgorithms: ['AES'], minimumBits: { AES: 256 } }, rotation: { maxAgeDays: 90, warningDays: 14 } };
      const sameReordered = { rotation: { warningDays: 14, maxAgeDays: 90 }, keyStrength: { minimumBits: { AES: 256 }, allowedAlgorithms: ['AES'] } };
      given(d, [defined, revised(2, full)]).when(revise(sameReordered)).thenNothing();
      // array order is content, though
      const two: PolicyDocument = { keyStrength: { allowedAlgorithms: ['AES', 'EC'] } };
      given(d, [defined, revised(2, two)]).when(revise({ keyStrength: { allowedAlgorithms: ['EC', 'AES'] } })).then([revised(3, { keyStrength: { allowedAlgorithms: ['EC', 'AES'] } })]);
    });

    it('compares against the latest version, not the first', () => {
      given(d, [defined, revised(2, next)]).when(revise(doc)).then([revised(3, doc)]);
    });

    it('refuses a change based on a stale or future version', () => {
      const error = given(d, [defined, revised(2, next)]).when(revise(doc, 1)).thenThrows({ kind: 'invalid-state', code: 'policy.stale-version' });
      expect(error.details).toEqual({ policyId: P, latestVersion: 2 });
      given(d, [defined]).when(revise(next, 3)).thenThrows({ code: 'policy.stale-version' });
    });

    it('refuses an unknown policy', () => void given(d).when(revise(next)).thenThrows({ kind: 'not-found', code: 'policy.not-found' }));

    it('refuses an invalid document, with paths, even when it is based on the latest version', () => {
      const error = given(d, [defined]).when(revise({ rotation: { maxAgeDays: 30, warningDays: 30 } }, 1)).thenThrows({ kind: 'validation', code: 'policy.document' });
      expect(errorPaths(error)).toEqual(['$.rotation.warningDays']);
      given(d, [defined]).when(revise({ rotation: { maxAgeDays: -1 } })).thenThrows({ code: 'policy.document' });
    });
  });

  it('latestVersion follows revisions', () => {
    expect(latestVersion(d.initialState)).toBe(0);
    expect(latestVersion([defined, revised(2, next), revised(3, doc)].reduce(d.evolve, d.initialState))).toBe(3);
  });
});

describe('policy scope decider', () => {
  const known: PolicyFact = { exists: true, latestVersion: 2 };
  const assign = (version?: number, policyId = P, policy: PolicyFact = known): PolicyScopeCommand => ({
    type: 'AssignPolicy',
    scope: 'global',
    policyId,
    policy,
    ...(version === undefined ? {} : { version }),
  });
  const unassign = (policyId = P): PolicyScopeCommand => ({ type: 'UnassignPolicy', scope: 'global', policyId });
  const assigned = (version: number | 'latest', policyId = P): PolicyScopeEvent => ({ type: 'PolicyAssigned', data: { scope: 'global', policyId, version } });
  const unassigned = (policyId = P): PolicyScopeEvent => ({ type: 'PolicyUnassigned', data: { scope: 'global', policyId } });

  describe('AssignPolicy', () => {
    it('assigns a policy following its latest version', () => void given(scope).when(assign()).then([assigned('latest')]));
    it('assigns a policy pinned to a version, first or latest', () => {
      given(scope).when(assign(1)).then([assigned(1)]);
      given(scope).when(assign(2)).then([assigned(2)]);
    });
    it('assigns to a tenant scope', () => {
      given(scope).when({ type: 'AssignPolicy', scope: 't-1', policyId: P, policy: known }).then([{ type: 'PolicyAssigned', data: { scope: 't-1', policyId: P, version: 'latest' } }]);
    });

    it('switches between following and pinning', () => {
      given(scope, [assigned('latest')]).when(assign(1)).then([assigned(1)]);
      given(scope, [assigned(1)]).when(assign()).then([assigned('latest')]);
      // pinning the version that happens to be latest is still a pin
      given(scope, [assigned('latest')]).when(assign(2)).then([assigned(2)]);
    });

    it('assigning the same version again records nothing', () => {
      given(scope, [assigned('latest')]).when(assign()).thenNothing();
      given(scope, [assigned(1)]).when(assign(1)).thenNothing();
    });

    it('keeps several policies apart', () => {
      given(scope, [assigned('latest', 'p-2')]).when(assign()).then([assigned('latest')]);
    });

    it('refuses an unknown policy', () => void given(scope).when(assign(undefined, P, { exists: false })).thenThrows({ kind: 'not-found', code: 'policy.not-found' }));

    it.each([0, -1, 3, 1.5, Number.NaN])('refuses pinning version %s of a policy at version 2', (version) => {
      given(scope).when(assign(version)).thenThrows({ kind: 'validation', code: 'policy.version' });
    });
  });

  describe('UnassignPolicy', () => {
    it('unassigns an assigned policy, pinned or not', () => {
      given(scope, [assigned('latest')]).when(unassign()).then([unassigned()]);
      given(scope, [assigned(1)]).when(unassign()).then([unassigned()]);
    });

    it('can assign again after unassigning', () => void given(scope, [assigned('latest'), unassigned()]).when(assign()).then([assigned('latest')]));

    it('refuses unassigning what is not assigned', () => {
      given(scope).when(unassign()).thenThrows({ kind: 'not-found', code: 'policy-assignment.not-found' });
      given(scope, [assigned('latest'), unassigned()]).when(unassign()).thenThrows({ code: 'policy-assignment.not-found' });
      given(scope, [assigned('latest', 'p-2')]).when(unassign()).thenThrows({ code: 'policy-assignment.not-found' });
    });

    it.each(['toString', 'constructor', 'hasOwnProperty'])('does not mistake the prototype member %s for an assignment', (policyId) => {
      given(scope).when(unassign(policyId)).thenThrows({ code: 'policy-assignment.not-found' });
      given(scope).when(assign(undefined, policyId)).then([assigned('latest', policyId)]);
    });
  });
});
