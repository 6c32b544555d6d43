import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, invalid, isJurisdictionScope, jurisdictionOfScope } from '@cmk/domain';
import { assertTenantAccess, Role } from '@cmk/auth';
import { PolicyDocument, validatePolicyDocument } from '@cmk/policy';
import { StateAsOf } from '../../shared/state-as-of';
import { CurrentActor, Roles } from '../../http/auth.decorators';
import { SimulatePolicyRequest } from '../define-policy/define-policy.request.dto';
import { PolicyImpacts } from '../policy-impact';
import { TENANT_SCOPE } from '../assign-policy/assign-policy.handler';

/** What-if: evaluate a draft policy against the current key links of a scope. Nothing is written. */
@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class SimulatePolicyController {
  constructor(private readonly impacts: PolicyImpacts, private readonly stateAsOf: StateAsOf) {}

  private pastTime(asOf: string): Date {
    const at = new Date(asOf);
    if (at.getTime() > Date.now()) throw invalid('policy.asOf', 'asOf must not be in the future', { field: 'asOf' });
    return at;
  }

  /** The draft against the registry replayed up to `at`: the tenants the scope covered then, their links then. */
  private async impactAsOf(document: PolicyDocument, scope: string, at: Date) {
    const registry = await this.stateAsOf.registry(at);
    const jurisdiction = jurisdictionOfScope(scope);
    const tenantIds =
      scope === 'global' ? undefined : jurisdiction ? [...registry.tenants.values()].filter((t) => t.jurisdiction === jurisdiction).map((t) => t.tenantId) : [scope];
    return { ...PolicyImpacts.ofLinks('draft', 0, document, StateAsOf.linksUnderPolicy(registry, tenantIds)), replayed: registry.replayed };
  }

  @Post('simulate')
  @HttpCode(200)
  @Roles(Role.SecurityOfficer, Role.PlatformOperator, Role.Auditor, Role.TenantAdmin)
  @ApiOperation({ summary: 'What-if: which key links a draft policy would make non-compliant, now or as of a past time (replay)' })
  async simulate(@Body() body: SimulatePolicyRequest, @CurrentActor() actor: Actor) {
    const errors = validatePolicyDocument(body.document);
    if (errors.length > 0) throw invalid('policy.document', `policy document is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors, field: errors[0].path });
    const scope = body.scope ?? 'global';
    const tenantScope = scope !== 'global' && !isJurisdictionScope(scope);
    if (tenantScope && !TENANT_SCOPE.test(scope)) throw invalid('policy.scope', 'scope must be "global", "jurisdiction:<code>" or a tenant id', { field: 'scope' });
    if (isJurisdictionScope(scope) && !jurisdictionOfScope(scope)) throw invalid('policy.scope', `${scope} names no known jurisdiction`, { field: 'scope' });
    if (tenantScope) assertTenantAccess(actor, scope);
    else if (actor.tenantScope !== undefined) throw invalid('policy.scope', 'a tenant-scoped caller simulates for one of its tenants (scope)', { field: 'scope' });
    const asOf = body.asOf ? this.pastTime(body.asOf) : undefined;
    const impact = asOf ? await this.impactAsOf(body.document, scope, asOf) : { ...(await this.impacts.of('draft', 0, body.document, [scope])), replayed: undefined };
    return {
      scope,
      ...(asOf ? { asOf: asOf.toISOString(), replayedEvents: impact.replayed } : {}),
      evaluated: impact.evaluated,
      keyLinks: impact.keyLinks,
      tenants: impact.tenants,
      violations: impact.findings.slice(0, 1000).map(({ keyLinkId, tenantId, rule, message }) => ({ keyLinkId, tenantId, rule, message })),
      truncated: impact.findings.length > 1000,
    };
  }
}
