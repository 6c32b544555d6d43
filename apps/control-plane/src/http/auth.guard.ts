import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticationError, JwtVerifier, RoleName } from '@cmk/auth';
import { CmkRequest, PUBLIC_KEY, ROLES_KEY } from './auth.decorators';
import { RoleRequired } from './role-required.error';

export const JWT_VERIFIER = Symbol('JWT_VERIFIER');

/** Authentication and the role check happen here, at the edge; tenant scope is checked in handlers. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(JWT_VERIFIER) private readonly verifier: JwtVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest<CmkRequest>();
    const header = req.headers['authorization'];
    const value = Array.isArray(header) ? header[0] : header;
    const match = value ? /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(value) : null;
    if (!match) throw new AuthenticationError(value ? 'Authorization header must be "Bearer <token>"' : 'missing bearer token');
    req.actor = await this.verifier.verify(match[1]);
    const allowed = this.reflector.getAllAndOverride<RoleName[] | undefined>(ROLES_KEY, targets);
    // Defence in depth: start-up already refuses undeclared routes; deny rather than allow if one slips by.
    if (!allowed || !req.actor.roles.some((r) => allowed.includes(r as RoleName)))
      throw new RoleRequired(allowed ?? []);
    return true;
  }
}
