import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { systemDecider, systemStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';

export class DeregisterSystemCommand {
  constructor(readonly systemId: string, readonly reason: string, readonly ctx: ExecutionContext) {}
}

@CommandHandler(DeregisterSystemCommand)
export class DeregisterSystemHandler implements ICommandHandler<DeregisterSystemCommand, CommandResult> {
  constructor(private readonly aggregates: Aggregates) {}

  async execute({ systemId, reason, ctx }: DeregisterSystemCommand): Promise<CommandResult> {
    return this.aggregates.execute(
      systemStream(systemId),
      systemDecider,
      (state) => {
        if (state.exists) assertTenantAccess(ctx.actor, state.tenantId);
        return { type: 'DeregisterSystem' as const, systemId, reason };
      },
      ctx,
    );
  }
}
