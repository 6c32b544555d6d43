import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { keyLinkDecider, keyLinkStream, PolicyViolationError } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { checkKeyStrength } from '@cmk/policy';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { LinkKeyRequest } from './link-key.request.dto';

export class LinkKeyCommand {
  constructor(readonly tenantId: string, readonly request: LinkKeyRequest, readonly ctx: ExecutionContext) {}
}

/** Links a tenant's root of trust. Policy admission runs before anything is appended. */
@CommandHandler(LinkKeyCommand)
export class LinkKeyHandler implements ICommandHandler<LinkKeyCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ tenantId, request, ctx }: LinkKeyCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    const [tenant, policies] = await Promise.all([this.facts.tenant(tenantId), this.facts.policiesInForce(tenantId)]);
    const violations = checkKeyStrength(policies, request);
    if (violations.length > 0) throw new PolicyViolationError(violations);
    const keyLinkId = request.keyLinkId ?? randomUUID();
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'LinkKey', ...request, keyLinkId, tenantId, tenant: tenant.fact }, ctx);
  }
}
