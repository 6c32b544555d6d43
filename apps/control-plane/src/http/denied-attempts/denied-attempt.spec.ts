import type { Request } from 'express';
import { AuthenticationError, TenantAccessDenied, TokenRefused } from '@cmk/auth';
import { NotFoundException } from '@nestjs/common';
import { RoleRequired } from '../role-required.error';
import { deniedAttemptOf } from './denied-attempt';

const AT = new Date('2026-03-14T10:00:00Z');

function req(over: Record<string, unknown> = {}): Request {
  return {
    method: 'POST',
    baseUrl: '',
    route: { path: '/v1/key-links/:keyLinkId/revoke' },
    params: { keyLinkId: 'k-1' },
    originalUrl: '/v1/key-links/k-1/revoke?x=1',
    headers: {},
    ip: '10.1.2.3',
    correlationId: 'corr-1',
    ...over,
  } as unknown as Request;
}

const actor = { subject: 'alice', roles: ['auditor'], issuer: 'urn:idp', tenantScope: ['t-a'] };

describe('deniedAttemptOf', () => {
  it('records a refused token by its code and nobody as the subject, even when an actor is on the request', () => {
    expect(deniedAttemptOf(new TokenRefused('bad-signature'), req({ actor }), AT)).toEqual({
      at: AT.toISOString(),
      method: 'POST',
      path: '/v1/key-links/:keyLinkId/revoke',
      target: { keyLinkId: 'k-1' },
      status: 401,
      reason: 'bad-signature',
      subject: 'unauthenticated',
      roles: [],
      source: '10.1.2.3',
      correlationId: 'corr-1',
    });
  });

  it('tells a missing token from a malformed Authorization header', () => {
    expect(deniedAttemptOf(new AuthenticationError('missing bearer token'), req(), AT)?.reason).toBe('missing-token');
    expect(deniedAttemptOf(new AuthenticationError('x'), req({ headers: { authorization: 'Basic abc' } }), AT)?.reason).toBe('malformed-authorization-header');
  });

  it('records the verified actor for 403s: role missing at the edge, tenant scope in a handler', () => {
    expect(deniedAttemptOf(new RoleRequired(['key-admin']), req({ actor }), AT)).toMatchObject({ status: 403, reason: 'role-missing', subject: 'alice', issuer: 'urn:idp', roles: ['auditor'] });
    expect(deniedAttemptOf(new TenantAccessDenied('t-b'), req({ actor }), AT)).toMatchObject({ status: 403, reason: 'tenant-scope', refusedTenantId: 't-b', subject: 'alice' });
  });

  it('ignores other errors, and falls back to the path without its query when no route matched', () => {
    expect(deniedAttemptOf(new NotFoundException(), req(), AT)).toBeUndefined();
    expect(deniedAttemptOf(new Error('boom'), req(), AT)).toBeUndefined();
    expect(deniedAttemptOf(new TokenRefused('expired'), req({ route: undefined }), AT)?.path).toBe('/v1/key-links/k-1/revoke');
  });
});
