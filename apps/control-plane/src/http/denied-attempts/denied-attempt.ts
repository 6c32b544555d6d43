import type { Request } from 'express';
import { AuthenticationError, TenantAccessDenied, TokenRefused } from '@cmk/auth';
import { type AccessDenied, type AccessDeniedReason, type Actor, UNAUTHENTICATED_SUBJECT } from '@cmk/domain';
import { RoleRequired } from '../role-required.error';

export type DeniedAttempt = AccessDenied['data'];

type EdgeRequest = Request & { actor?: Actor; correlationId?: string };

/**
 * The audit record of a refused request, or undefined when the error is not a refusal. Only verified facts:
 * the subject, issuer and roles come from `req.actor`, which the guard sets after verification and never before.
 */
export function deniedAttemptOf(error: unknown, req: EdgeRequest, at: Date): DeniedAttempt | undefined {
  const refusal = refusalOf(error, req);
  if (!refusal) return undefined;
  const actor = refusal.status === 403 ? req.actor : undefined;
  return {
    at: at.toISOString(),
    method: req.method,
    path: routeTemplate(req),
    target: { ...(req.params ?? {}) },
    status: refusal.status,
    reason: refusal.reason,
    subject: actor?.subject ?? UNAUTHENTICATED_SUBJECT,
    ...(actor?.issuer ? { issuer: actor.issuer } : {}),
    roles: actor ? [...actor.roles] : [],
    ...(refusal.tenantId ? { refusedTenantId: refusal.tenantId } : {}),
    source: req.ip ?? req.socket?.remoteAddress ?? 'unknown',
    ...(req.correlationId ? { correlationId: req.correlationId } : {}),
  };
}

function refusalOf(error: unknown, req: EdgeRequest): { status: 401 | 403; reason: AccessDeniedReason; tenantId?: string } | undefined {
  if (error instanceof TokenRefused) return { status: 401, reason: error.code };
  if (error instanceof AuthenticationError) return { status: 401, reason: req.headers.authorization ? 'malformed-authorization-header' : 'missing-token' };
  if (error instanceof RoleRequired) return { status: 403, reason: 'role-missing' };
  if (error instanceof TenantAccessDenied) return { status: 403, reason: 'tenant-scope', tenantId: error.tenantId };
  return undefined;
}

/**
 * The matched route's template, so refusals group by endpoint and ids stay in `target`. A refusal always happens
 * on a matched route (the guard runs only there); the raw path without its query is the fallback.
 */
function routeTemplate(req: EdgeRequest): string {
  const template = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof template === 'string') return `${req.baseUrl ?? ''}${template}`;
  return (req.originalUrl ?? req.url ?? '').split('?')[0].slice(0, 512);
}
