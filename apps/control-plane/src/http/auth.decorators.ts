import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ALL_ROLES, RoleName } from '@cmk/auth';
import type { Actor, CommandContext } from '@cmk/domain';
import { randomUUID } from 'node:crypto';
import { deterministicUuid } from '../shared/deterministic-uuid';

export const ROLES_KEY = 'cmk:roles';
export const PUBLIC_KEY = 'cmk:public';

/** Every route declares who may call it; a route without a declaration refuses start-up (see route-audit). */
export const Roles = (...roles: RoleName[]) => SetMetadata(ROLES_KEY, roles);
export const AnyRole = () => SetMetadata(ROLES_KEY, ALL_ROLES);
/** Only for probes and API docs; documented in docs/operations.md. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface CmkRequest {
  actor?: Actor;
  correlationId?: string;
  headers: Record<string, string | string[] | undefined>;
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return ctx.switchToHttp().getRequest<CmkRequest>().actor!;
});

const COMMAND_NS = '6f1c2d1e-8a53-4c0b-9f0e-2a4b7c9d0e11';

/**
 * The command's context. With an Idempotency-Key the command id is derived from (subject, key), so a retry
 * that reaches the event store again is recognised there too, not only by the HTTP replay cache.
 */
export const CommandCtx = createParamDecorator((_: unknown, ctx: ExecutionContext): CommandContext & { ifMatch?: number } => {
  const req = ctx.switchToHttp().getRequest<CmkRequest>();
  const actor = req.actor!;
  const key = header(req, 'idempotency-key');
  const ifMatch = header(req, 'if-match');
  return {
    actor,
    commandId: key ? deterministicUuid(COMMAND_NS, `${actor.subject}\u0000${key}`) : randomUUID(),
    correlationId: req.correlationId ?? randomUUID(),
    now: new Date(),
    ...(ifMatch !== undefined ? { ifMatch: parseIfMatch(ifMatch) } : {}),
  };
});

function header(req: CmkRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

import { ProblemError } from './problem';
export function parseIfMatch(value: string): number {
  const m = /^(?:W\/)?"(\d+)"$/.exec(value.trim());
  if (!m) throw new ProblemError(400, 'bad-if-match', 'Malformed If-Match header', 'If-Match must be an ETag like "3" (the stream revision)', { errors: [{ field: 'If-Match', message: 'must be a quoted revision number' }] });
  return Number(m[1]);
}
