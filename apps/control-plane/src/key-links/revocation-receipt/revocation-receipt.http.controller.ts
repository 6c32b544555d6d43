import { Controller, Get, Inject, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, DomainError, enforcementStream, keyLinkStream } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import { EVENT_STORE, type EventStore } from '@cmk/event-store';
import { AnyRole, CurrentActor } from '../../http/auth.decorators';
import { revocationReceipt } from './revocation-receipt';

@ApiTags('key-links')
@ApiBearerAuth()
@Controller('v1/key-links')
export class RevocationReceiptController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Read from the event store itself: the receipt is evidence, so it never rests on a projection. */
  @Get(':keyLinkId/revocation')
  @AnyRole()
  @ApiOperation({ summary: 'Revocation receipt: when the key link was revoked and when each region enforced it' })
  @ApiOkResponse({ description: 'The receipt of the revocation in force' })
  async receipt(@Param('keyLinkId', new ParseUUIDPipe()) keyLinkId: string, @CurrentActor() actor: Actor) {
    const linkEvents = await this.store.readStream(keyLinkStream(keyLinkId));
    if (linkEvents.length === 0) throw new NotFoundException(`key link ${keyLinkId} does not exist`);
    const tenantId = (linkEvents[0].data as { tenantId: string }).tenantId;
    assertTenantAccess(actor, tenantId);
    const receipt = revocationReceipt(linkEvents, await this.store.readStream(enforcementStream(tenantId)));
    if (!receipt) throw new DomainError('invalid-state', 'key-link-not-revoked', `key link ${keyLinkId} has no revocation in force`, { keyLinkId });
    return receipt;
  }
}
