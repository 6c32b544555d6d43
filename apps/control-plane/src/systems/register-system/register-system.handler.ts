import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { systemDecider, systemStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { RegisterSystemRequest } from './register-system.request.dto';

export class RegisterSystemCommand {
  constructor(readonly tenantId: string, readonly request: RegisterSystemRequest, readonly ctx: ExecutionContext) {}
}

/** Unknown to the registry means unknown to the crypto layer: only registered systems may use keys. */
@CommandHandler(RegisterSystemCommand)
export class RegisterSystemHandler implements ICommandHandler<RegisterSystemCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts) {}

  async execute({ tenantId, request, ctx }: RegisterSystemCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    const [tenant, keyLink] = await Promise.all([this.facts.tenant(tenantId), this.facts.keyLink(request.keyLinkId)]);
    const systemId = request.systemId ?? randomUUID();
    return this.aggregates.execute(
      systemStream(systemId),
      systemDecider,
      { type: 'RegisterSystem', systemId, tenantId, tenant: tenant.fact, name: request.name, region: request.region, keyLinkId: request.keyLinkId, keyLink },
      ctx,
    );
  }
}
