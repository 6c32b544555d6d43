import { ForbiddenException } from '@nestjs/common';

/** The edge refused the request before any handler ran: the token's roles are not among the route's declared ones. */
export class RoleRequired extends ForbiddenException {
  constructor(readonly allowed: readonly string[]) {
    super(`this operation needs one of the roles: ${allowed.join(', ') || '(none declared)'}`);
    this.name = 'RoleRequired';
  }
}
