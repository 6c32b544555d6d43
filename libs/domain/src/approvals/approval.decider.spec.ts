import { fold } from '../shared/decider';
import { given } from '../testing';
import type { Actor } from '../shared/metadata';
import type { ApprovalCommand, RequestApproval } from './approval.commands';
import { approvalDecider as d, approverRefusal, quorumReached } from './approval.decider';
import type { ApprovalEvent } from './approval.events';

const A = 'a-1';
const T = 't-1';
const NOW = new Date('2026-03-01T10:00:00Z');
const EXPIRES = '2026-03-08T10:00:00.000Z';
const initiator: Actor = { subject: 'alice', roles: ['key-admin'], issuer: 'urn:idp' };
const bob: Actor = { subject: 'bob', roles: ['security-officer'], issuer: 'urn:idp' };
const carol: Actor = { subject: 'carol', roles: ['key-admin'], tenantScope: [T], issuer: 'urn:idp' };
const auditor: Actor = { subject: 'dave', roles: ['auditor'], issuer: 'urn:idp' };

const request: RequestApproval = {
  type: 'RequestApproval',
  approvalId: A,
  action: 'key-link.restore',
  operation: 'RestoreKeyLink',
  tenantId: T,
  target: { keyLinkId: 'k-1' },
  request: { reason: 'incident closed' },
  initiator,
  requiredApprovers: 2,
  approverRoles: ['key-admin', 'security-officer'],
  expiresAt: EXPIRES,
  setBy: [],
  now: NOW,
};
const { type: _t, now: _n, ...requestedData } = request;
const requested: ApprovalEvent = { type: 'ApprovalRequested', data: requestedData };
const granted = (approver: Actor): ApprovalEvent => ({ type: 'ApprovalGranted', data: { approvalId: A, approver } });
const approve = (approver: Actor, now = NOW): ApprovalCommand => ({ type: 'ApproveRequest', approvalId: A, approver, now });
const reject = (by: Actor, reason = 'not now', now = NOW): ApprovalCommand => ({ type: 'RejectRequest', approvalId: A, by, reason, now });
const expire = (now: Date): ApprovalCommand => ({ type: 'ExpireApproval', approvalId: A, now });
const executed: ApprovalEvent = { type: 'ApprovalExecuted', data: { approvalId: A, resultStream: 'keylink-k-1', position: '42', events: ['KeyLinkRestored'] } };
const recordExecuted: ApprovalCommand = { type: 'RecordApprovalExecuted', approvalId: A, resultStream: 'keylink-k-1', position: '42', events: ['KeyLinkRestored'] };
const recordFailed: ApprovalCommand = { type: 'RecordApprovalFailed', approvalId: A, code: 'tenant.not-active', reason: 'tenant t-1 is suspended' };
const expiredEvent: ApprovalEvent = { type: 'ApprovalExpired', data: { approvalId: A, expiresAt: EXPIRES } };
const afterExpiry = new Date(Date.parse(EXPIRES));

describe('approval decider', () => {
  describe('RequestApproval', () => {
    it('records the request with who asked, for what, and who may approve', () => void given(d).when(request).then([requested]));

    it('records only the declared fields, whatever else the command object carries', () => {
      given(d).when({ ...request, initiator: { ...initiator, token: 'eyJ…' } as Actor, secret: 'x' } as never).then([requested]);
    });

    it('refuses a second request under the same id', () => void given(d, [requested]).when(request).thenThrows({ kind: 'invalid-state', code: 'approval.exists' }));

    it.each([
      [{ requiredApprovers: 0 }, 'approval.required-approvers'],
      [{ requiredApprovers: 1.5 }, 'approval.required-approvers'],
      [{ approverRoles: [] }, 'approval.approver-roles'],
      [{ expiresAt: NOW.toISOString() }, 'approval.expires-at'],
      [{ expiresAt: 'soon' }, 'approval.expires-at'],
    ])('refuses a request with %j (%s)', (over, code) => void given(d).when({ ...request, ...over } as RequestApproval).thenThrows({ kind: 'validation', code }));
  });

  describe('ApproveRequest', () => {
    it('records a grant by another person holding an allowed role', () => void given(d, [requested]).when(approve(bob)).then([granted(bob)]));

    it('refuses self-approval, also under other roles the initiator holds', () => {
      given(d, [requested]).when(approve(initiator)).thenThrows({ kind: 'policy', code: 'approval.self-approval' });
      given(d, [requested]).when(approve({ ...initiator, roles: ['security-officer'] })).thenThrows({ code: 'approval.self-approval' });
    });

    it('tells the same subject at another issuer apart from the initiator', () => {
      const sameNameElsewhere = { ...initiator, issuer: 'urn:other-idp' };
      given(d, [requested]).when(approve(sameNameElsewhere)).then([granted(sameNameElsewhere)]);
    });

    it('refuses an approver without one of the required roles', () => {
      const error = given(d, [requested]).when(approve(auditor)).thenThrows({ kind: 'policy', code: 'approval.role-required' });
      expect(error.details.approverRoles).toEqual(['key-admin', 'security-officer']);
    });

    it('refuses an approver scoped to other tenants, and a tenant-scoped one on a platform-wide request', () => {
      given(d, [requested]).when(approve({ ...carol, tenantScope: ['t-2'] })).thenThrows({ code: 'approval.tenant-scope' });
      given(d, [requested]).when(approve(carol)).then([granted(carol)]);
      const { tenantId: _, ...platformWide } = requestedData;
      given(d, [{ type: 'ApprovalRequested', data: platformWide }]).when(approve(carol)).thenThrows({ code: 'approval.tenant-scope' });
    });

    it('counts the same person once: a second approval changes nothing', () => {
      given(d, [requested, granted(bob)]).when(approve(bob)).thenNothing();
      given(d, [requested, granted(bob)]).when(approve({ ...bob, roles: ['key-admin'] })).thenNothing();
    });

    it('reaches quorum with the last required grant', () => {
      const before = fold(d, [requested, granted(bob)]);
      const after = fold(d, [requested, granted(bob), granted(carol)]);
      expect(quorumReached(before, after)).toBe(true);
      expect(after.exists && after.status).toBe('approved');
      expect(quorumReached(fold(d, [requested]), before)).toBe(false);
      expect(before.exists && before.status).toBe('pending');
    });

    it('takes no further approvals once the quorum is there', () => {
      given(d, [requested, granted(bob), granted(carol)]).when(approve({ subject: 'erin', roles: ['key-admin'] })).thenThrows({ code: 'approval.closed' });
    });

    it('expires a request approved at or after its expiry instead of granting', () => {
      given(d, [requested]).when(approve(bob, afterExpiry)).then([expiredEvent]);
      given(d, [requested]).when(approve(bob, new Date(afterExpiry.getTime() - 1))).then([granted(bob)]);
    });

    it.each([
      ['executed', [granted(bob), granted(carol), executed]],
      ['rejected', [{ type: 'ApprovalRejected', data: { approvalId: A, by: bob, reason: 'no' } }]],
      ['expired', [expiredEvent]],
      ['failed', [granted(bob), granted(carol), { type: 'ApprovalFailed', data: { approvalId: A, code: 'x', reason: 'y' } }]],
    ] as [string, ApprovalEvent[]][])('changes nothing after the request is %s', (_status, history) => {
      given(d, [requested, ...history]).when(approve({ subject: 'erin', roles: ['key-admin'] })).thenThrows({ kind: 'invalid-state', code: 'approval.closed' });
      given(d, [requested, ...history]).when(reject(bob)).thenThrows({ code: 'approval.closed' });
    });

    it('refuses an unknown request', () => void given(d).when(approve(bob)).thenThrows({ kind: 'not-found', code: 'approval.not-found' }));
  });

  describe('RejectRequest', () => {
    it('records a rejection by an eligible approver, with the reason', () => {
      given(d, [requested, granted(bob)]).when(reject(carol, '  wrong link  ')).then([{ type: 'ApprovalRejected', data: { approvalId: A, by: carol, reason: 'wrong link' } }]);
    });

    it('lets the initiator withdraw their own request', () => {
      given(d, [requested]).when(reject(initiator, 'mistake')).then([{ type: 'ApprovalRejected', data: { approvalId: A, by: initiator, reason: 'mistake' } }]);
    });

    it('refuses a rejection without a reason or by someone who could not approve', () => {
      given(d, [requested]).when(reject(bob, ' ')).thenThrows({ kind: 'validation', code: 'reason.required' });
      given(d, [requested]).when(reject(auditor)).thenThrows({ code: 'approval.role-required' });
    });

    it('cannot undo a quorum, and expires a request past its time', () => {
      given(d, [requested, granted(bob), granted(carol)]).when(reject(bob)).thenThrows({ code: 'approval.closed' });
      given(d, [requested]).when(reject(bob, 'late', afterExpiry)).then([expiredEvent]);
    });
  });

  describe('ExpireApproval', () => {
    it('expires a pending request once `now` reaches expiresAt, and only then', () => {
      given(d, [requested]).when(expire(afterExpiry)).then([expiredEvent]);
      given(d, [requested]).when(expire(new Date(afterExpiry.getTime() - 1))).thenNothing();
    });

    it('leaves a request with its quorum, and closed ones, alone', () => {
      given(d, [requested, granted(bob), granted(carol)]).when(expire(afterExpiry)).thenNothing();
      given(d, [requested, expiredEvent]).when(expire(afterExpiry)).thenNothing();
    });
  });

  describe('RecordApprovalExecuted / RecordApprovalFailed', () => {
    const quorum = [requested, granted(bob), granted(carol)];

    it('records the outcome once the quorum is there, once', () => {
      given(d, quorum).when(recordExecuted).then([executed]);
      given(d, quorum).when(recordFailed).then([{ type: 'ApprovalFailed', data: { approvalId: A, code: 'tenant.not-active', reason: 'tenant t-1 is suspended' } }]);
      given(d, [...quorum, executed]).when(recordExecuted).thenNothing();
      given(d, [...quorum, executed]).when(recordFailed).thenNothing();
    });

    it('refuses an outcome for a request without quorum', () => {
      given(d, [requested, granted(bob)]).when(recordExecuted).thenThrows({ kind: 'invalid-state', code: 'approval.not-approved' });
      given(d, [requested, expiredEvent]).when(recordFailed).thenThrows({ code: 'approval.not-approved' });
    });
  });

  it('answers who may approve without deciding anything (used by the pending list)', () => {
    const state = fold(d, [requested]);
    if (!state.exists) throw new Error('unreachable');
    expect(approverRefusal(state, bob)).toBeUndefined();
    expect(approverRefusal(state, initiator)?.code).toBe('approval.self-approval');
    expect(approverRefusal(state, auditor)?.code).toBe('approval.role-required');
  });
});
