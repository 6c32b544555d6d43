import { DomainError } from '@cmk/domain';
import { TenantAccessDenied, TokenRefused } from '@cmk/auth';
import { ProjectionNotOwnedError } from '@cmk/read-models';
import { toProblem } from './problem.filter';
import { RoleRequired } from './role-required.error';

describe('toProblem', () => {
  it("keeps RFC 9457's own members when a domain error's details use the same names", () => {
    const { problem } = toProblem(new DomainError('invalid-state', 'key-link.not-rotatable', 'key link k is revoked', { keyLinkId: 'k', status: 'revoked', type: 'x' }));
    expect(problem).toMatchObject({ status: 409, type: 'https://openkcm.dev/problems/invalid-state', code: 'key-link.not-rotatable', keyLinkId: 'k', resourceStatus: 'revoked', resourceType: 'x' });
  });

  it('answers refusals 401 and 403 without token text', () => {
    expect(toProblem(new TokenRefused('expired'))).toMatchObject({ problem: { status: 401, detail: 'token expired' }, headers: { 'WWW-Authenticate': expect.stringContaining('invalid_token') } });
    expect(toProblem(new RoleRequired(['auditor'])).problem).toMatchObject({ status: 403, detail: 'this operation needs one of the roles: auditor' });
    expect(toProblem(new TenantAccessDenied('t-b')).problem).toMatchObject({ status: 403, detail: 'not allowed to act on tenant t-b' });
  });

  it('answers a projection held by another instance (or a concurrent rebuild) with 409, not 500', () => {
    expect(toProblem(new ProjectionNotOwnedError('another instance holds a projection lock or lease')).problem).toMatchObject({ status: 409, type: 'https://openkcm.dev/problems/projection.busy' });
  });
});
