import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import { Actor } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { evaluateLinks, rotationStatus, tenantKeyRotationStatus, type LinkFinding, type PolicyInForce, type RotationStatus, type TenantKeyRotationStatus } from '@cmk/policy';
import { AnyRole, CurrentActor } from '../http/auth.decorators';
import { ReadSide } from '../shared/read-side';
import { workerDriftReport } from './worker-drift';

export class ComplianceQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() tenantId?: string;
}

/**
 * The compliance picture now: existing key links that violate the policies in force for their tenant, and links
 * overdue for rotation or inside the warning window. From the read models caught up to the head.
 */
@ApiTags('compliance')
@ApiBearerAuth()
@Controller('v1/compliance')
export class ComplianceController {
  constructor(private readonly readSide: ReadSide) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Links violating the policies in force, keys overdue (or nearly) for rotation, and workers not on the policy versions in force (drift)' })
  async compliance(@Query() q: ComplianceQuery, @CurrentActor() actor: Actor) {
    if (q.tenantId) assertTenantAccess(actor, q.tenantId);
    const head = await this.readSide.caughtUp();
    const scope = q.tenantId ? [q.tenantId] : actor.tenantScope;
    const links = await this.readSide.queries.linksUnderPolicy(scope);
    const ages = await this.readSide.queries.linkAges(scope);
    const tenantKeyAges = await this.readSide.queries.tenantKeyAges(scope);
    const tenants = [...new Set(links.map((l) => l.tenantId))];
    const policies = await this.readSide.queries.policiesInForceByTenant(tenants);
    const violations: LinkFinding[] = [];
    for (const tenantId of tenants) {
      const inForce = (policies.get(tenantId) ?? []) as PolicyInForce[];
      if (inForce.length > 0) violations.push(...evaluateLinks(inForce, links.filter((l) => l.tenantId === tenantId)));
    }
    const now = new Date();
    const rotation: RotationStatus[] = [];
    for (const link of ages) {
      const status = rotationStatus((policies.get(link.tenantId) ?? []) as PolicyInForce[], link, now);
      if (status) rotation.push(status);
    }
    const tenantKeyRotation: TenantKeyRotationStatus[] = [];
    for (const link of tenantKeyAges) {
      const status = tenantKeyRotationStatus((policies.get(link.tenantId) ?? []) as PolicyInForce[], link, now);
      if (status) tenantKeyRotation.push(status);
    }
    return {
      generatedAt: now.toISOString(),
      position: head.toString(),
      tenantsEvaluated: tenants.length,
      keyLinksEvaluated: links.length,
      violations,
      rotation: {
        overdue: rotation.filter((r) => r.state === 'overdue'),
        warning: rotation.filter((r) => r.state === 'warning'),
        // Overdue keys the rotation scheduler could not rotate: a person must (at the provider, or by relinking).
        needsPerson: ages.filter((a) => a.rotationDue).map((a) => ({ keyLinkId: a.keyLinkId, tenantId: a.tenantId, keySince: a.keySince, why: a.rotationDue })),
        // Tenant keys (L2), apart from the L1 findings above: the scheduler rotates these itself, so an overdue
        // one that stays listed means the scheduler is not running (or failing).
        tenantKeys: {
          overdue: tenantKeyRotation.filter((r) => r.state === 'overdue'),
          warning: tenantKeyRotation.filter((r) => r.state === 'warning'),
        },
      },
      // Workers not (yet) enforcing the policy versions in force for the tenants of their region.
      workerDrift: await workerDriftReport(this.readSide.queries, scope),
    };
  }
}
