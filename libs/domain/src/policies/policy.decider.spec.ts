import { given } from '../testing';
import { policyDecider as d, policyScopeDecider as scope } from './policy.decider';
import type { PolicyEvent, PolicyScopeEvent } from './policy.events';

const P = 'p-1';
const doc = { keyStrength: { minimumBits: { AES: 256 } } };
const defined: PolicyEvent = { type: 'PolicyDefined', data: { policyId: P, name: 'baseline', version: 1, document: doc } };

describe('policy decider', () => {
  it('defines version 1', () => void given(d).when({ type: 'DefinePolicy', policyId: P, name: 'baseline', document: doc }).then([defined]));
  it('refuses a redefinition, an empty name and an invalid document with field paths', () => {
    given(d, [defined]).when({ type: 'DefinePolicy', policyId: P, name: 'x', document: doc }).thenThrows({ code: 'policy.exists' });
    given(d).when({ type: 'DefinePolicy', policyId: P, name: ' ', document: doc }).thenThrows({ code: 'policy.name' });
    const error = given(d).when({ type: 'DefinePolicy', policyId: P, name: 'x', document: { keyStrength: { minimumBits: { RSA: 0 } }, extra: 1 } as never }).thenThrows({ kind: 'validation', code: 'policy.document' });
    expect((error as { details: { errors: { path: string }[] } }).details.errors.map((e) => e.path)).toEqual(['$.extra', '$.keyStrength.minimumBits.RSA']);
  });
  it('revises into a new version, never in place; identical documents record nothing', () => {
    const next = { keyStrength: { minimumBits: { AES: 256, RSA: 3072 } } };
    given(d, [defined]).when({ type: 'RevisePolicy', policyId: P, document: next }).then([{ type: 'PolicyRevised', data: { policyId: P, version: 2, document: next } }]);
    given(d, [defined]).when({ type: 'RevisePolicy', policyId: P, document: doc }).thenNothing();
    given(d, [defined]).when({ type: 'RevisePolicy', policyId: P, document: next, basedOnVersion: 3 }).thenThrows({ code: 'policy.stale-version' });
    given(d).when({ type: 'RevisePolicy', policyId: P, document: next }).thenThrows({ code: 'policy.not-found' });
    given(d, [defined]).when({ type: 'RevisePolicy', policyId: P, document: { rotation: { maxAgeDays: -1 } } }).thenThrows({ code: 'policy.document' });
  });
});

describe('policy scope decider', () => {
  const assigned: PolicyScopeEvent = { type: 'PolicyAssigned', data: { scope: 'global', policyId: P, version: 'latest' } };
  it('assigns a policy following its latest version, or pinned', () => {
    given(scope).when({ type: 'AssignPolicy', scope: 'global', policyId: P, policy: { exists: true, latestVersion: 2 } }).then([assigned]);
    given(scope, [assigned]).when({ type: 'AssignPolicy', scope: 'global', policyId: P, policy: { exists: true, latestVersion: 2 }, version: 1 }).then([
      { type: 'PolicyAssigned', data: { scope: 'global', policyId: P, version: 1 } },
    ]);
    given(scope, [assigned]).when({ type: 'AssignPolicy', scope: 'global', policyId: P, policy: { exists: true, latestVersion: 2 } }).thenNothing();
  });
  it('refuses unknown policies and versions', () => {
    given(scope).when({ type: 'AssignPolicy', scope: 'global', policyId: P, policy: { exists: false } }).thenThrows({ code: 'policy.not-found' });
    given(scope).when({ type: 'AssignPolicy', scope: 'global', policyId: P, policy: { exists: true, latestVersion: 2 }, version: 3 }).thenThrows({ code: 'policy.version' });
  });
  it('unassigns only what is assigned', () => {
    given(scope, [assigned]).when({ type: 'UnassignPolicy', scope: 'global', policyId: P }).then([{ type: 'PolicyUnassigned', data: { scope: 'global', policyId: P } }]);
    given(scope).when({ type: 'UnassignPolicy', scope: 'global', policyId: P }).thenThrows({ code: 'policy-assignment.not-found' });
  });
});
