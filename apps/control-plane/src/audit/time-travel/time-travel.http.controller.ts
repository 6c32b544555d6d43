import { Controller, Get, Inject, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { assertTenantAccess, Role } from '@cmk/auth';
import { Actor, enforcementStream } from '@cmk/domain';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@cmk/event-store';
import { decryptAccess, type EnforcementReceipt } from '@cmk/orbital';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { CurrentActor, Roles } from '../../http/auth.decorators';
import { parseAsOfTime, TenantNotYetError } from './as-of-time';
import { configuredRegions } from './configured-regions';
import { tenantAsOf } from './tenant-as-of';
import { replayTenant } from './tenant-replay';
import { AsOfQuery } from './time-travel.query.dto';

/** Time travel: a tenant as the regional workers were told at a past time, and who could decrypt its data then. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TimeTravelController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(':tenantId/as-of')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator, Role.TenantAdmin)
  @ApiOperation({ summary: 'The tenant, its systems, key links (status, key versions) and the policies in force at a past time, rebuilt by replay' })
  @ApiOkResponse({ description: 'tenant, systems, keyLinks, policies; position of the last event at or before `at`; replayedEvents' })
  @ApiBadRequestResponse({ description: '`at` is missing, malformed or in the future' })
  @ApiNotFoundResponse({ description: 'the tenant did not exist yet at `at`' })
  async asOf(@Param('tenantId', new ParseUUIDPipe()) tenantId: string, @Query() q: AsOfQuery, @CurrentActor() actor: Actor) {
    assertTenantAccess(actor, tenantId);
    const at = parseAsOfTime(q.at);
    const state = tenantAsOf(await replayTenant(this.store, tenantId, at), tenantId);
    if (!state) throw new TenantNotYetError(tenantId, at);
    return state;
  }

  @Get(':tenantId/decrypt-access')
  @Roles(Role.Auditor, Role.SecurityOfficer, Role.PlatformOperator, Role.TenantAdmin)
  @ApiOperation({ summary: 'Who could decrypt this tenant\'s data at a past time: per system, through which key link, in which regions, or why not' })
  @ApiOkResponse({ description: 'systems with regions or denial reasons, geofence and the rules that set it, policies in force, revocations not yet enforced at `at`' })
  @ApiBadRequestResponse({ description: '`at` is missing, malformed or in the future' })
  @ApiNotFoundResponse({ description: 'the tenant did not exist yet at `at`' })
  async decryptAccess(@Param('tenantId', new ParseUUIDPipe()) tenantId: string, @Query() q: AsOfQuery, @CurrentActor() actor: Actor) {
    assertTenantAccess(actor, tenantId);
    const at = parseAsOfTime(q.at);
    const regions = configuredRegions(this.config);
    const [replay, enforcement] = await Promise.all([replayTenant(this.store, tenantId, at), this.store.readStream(enforcementStream(tenantId))]);
    // Receipts are read whole, past `at` too: a region that confirmed after `at` could serve until it confirmed.
    const answer = decryptAccess({ world: replay.world, tenantId, regions, at, revocations: replay.revocations, receipts: enforcement.flatMap(receiptOf) });
    if (!answer) throw new TenantNotYetError(tenantId, at);
    return { at: at.toISOString(), position: replay.position, tenantPosition: replay.tenantPosition, replayedEvents: replay.replayed, ...answer };
  }
}

function receiptOf(event: RecordedEvent): EnforcementReceipt[] {
  const d = event.data as { revocationPosition?: unknown; regions?: unknown; region?: unknown; enforcedAt?: unknown };
  if (typeof d.revocationPosition !== 'string') return [];
  if (event.type === 'RevocationDispatched' && Array.isArray(d.regions)) {
    return [{ type: 'RevocationDispatched', recordedAt: event.recordedAt.toISOString(), revocationPosition: d.revocationPosition, regions: d.regions.filter((r): r is string => typeof r === 'string') }];
  }
  if (event.type === 'RevocationEnforced' && typeof d.region === 'string' && typeof d.enforcedAt === 'string') {
    return [{ type: 'RevocationEnforced', revocationPosition: d.revocationPosition, region: d.region, enforcedAt: d.enforcedAt }];
  }
  return [];
}
