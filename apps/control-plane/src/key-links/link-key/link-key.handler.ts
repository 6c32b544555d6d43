import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { keyLinkDecider, keyLinkStream, PolicyViolationError, RuleViolation } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { checkKeyStrength, checkProviderPlacement } from '@cmk/policy';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { LinkKeyRequest } from './link-key.request.dto';

export class LinkKeyCommand {
  constructor(readonly tenantId: string, readonly request: LinkKeyRequest, readonly ctx: ExecutionContext) {}
}

/** Links a tenant's root of trust. Policy admission runs before anything is appended. */
@CommandHandler(LinkKeyCommand)
export class LinkKeyHandler implements ICommandHandler<LinkKeyCommand, CommandResult> {
  constructor(
    private readonly aggregates: Aggregates,
    private readonly facts: Facts,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ tenantId, request, ctx }: LinkKeyCommand): Promise<CommandResult> {
    assertTenantAccess(ctx.actor, tenantId);
    const [tenant, policies] = await Promise.all([this.facts.tenant(tenantId), this.facts.policiesInForce(tenantId)]);
    const violations: RuleViolation[] = [
      ...checkKeyStrength(policies, request),
      ...(tenant.jurisdiction ? checkProviderPlacement(policies, request, tenant.jurisdiction) : []),
    ];
    if (request.providerKind === 'local' && !this.config.allowLocalKeys) {
      violations.push({ rule: 'provider.local-demo-only', message: 'local software keys are for the embedded demo; link an HSM or a cloud KMS key (CMK_ALLOW_LOCAL_KEYS=false here)' });
    }
    if (violations.length > 0) throw new PolicyViolationError(violations);
    const keyLinkId = request.keyLinkId ?? randomUUID();
    return this.aggregates.execute(keyLinkStream(keyLinkId), keyLinkDecider, { type: 'LinkKey', ...request, keyLinkId, tenantId, tenant: tenant.fact }, ctx);
  }
}
