import { Controller, Get, Inject, NotFoundException, Optional, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Role, assertTenantAccess } from '@cmk/auth';
import { Actor, DomainError, systemStream } from '@cmk/domain';
import { EVENT_STORE, type EventStore } from '@cmk/event-store';
import { AnyRole, CurrentActor, Roles } from '../http/auth.decorators';
import { EmbeddedMesh } from './embedded-mesh';

export const EMBEDDED_MESH = Symbol('EMBEDDED_MESH');

/**
 * Embedded mode only: where the demo's regional workers listen, and workload tokens for a registered system (in
 * production, workloads get their tokens from the identity provider, never from CMK).
 */
@ApiTags('embedded')
@ApiBearerAuth()
@Controller('v1')
export class EmbeddedMeshController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(EMBEDDED_MESH) private readonly embedded?: EmbeddedMesh,
  ) {}

  @Get('regions')
  @AnyRole()
  @ApiOperation({ summary: 'Embedded mode: the regional workers running in this process' })
  regions() {
    return { items: this.mesh().regions };
  }

  @Post('systems/:systemId/workload-token')
  @Roles(Role.PlatformOperator, Role.TenantAdmin, Role.KeyAdmin)
  @ApiOperation({ summary: 'Embedded mode: a workload token for a registered system, for the regional workers' })
  async token(@Param('systemId', new ParseUUIDPipe()) systemId: string, @CurrentActor() actor: Actor) {
    const mesh = this.mesh();
    const events = await this.store.readStream(systemStream(systemId));
    if (events.length === 0) throw new NotFoundException(`system ${systemId} does not exist`);
    const tenantId = (events[0].data as { tenantId: string }).tenantId;
    assertTenantAccess(actor, tenantId);
    if (events.some((e) => e.type === 'SystemDeregistered')) {
      throw new DomainError('invalid-state', 'system-deregistered', `system ${systemId} is deregistered`, { systemId });
    }
    const ttlSeconds = 3600;
    return { token: await mesh.workloadToken(tenantId, systemId, ttlSeconds), tenantId, systemId, expiresInSeconds: ttlSeconds, regions: mesh.regions };
  }

  private mesh(): EmbeddedMesh {
    if (!this.embedded) throw new NotFoundException('regional workers run in this process only in embedded mode; workloads get tokens from your identity provider');
    return this.embedded;
  }
}
