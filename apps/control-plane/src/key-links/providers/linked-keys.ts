import { Inject, Injectable } from '@nestjs/common';
import { Actor, KeyLinkState, keyLinkDecider, keyLinkStream, notFound } from '@cmk/domain';
import { assertTenantAccess } from '@cmk/auth';
import type { KeyProvider } from '@cmk/key-providers';
import { Aggregates } from '../../shared/aggregates';
import { KEY_PROVIDERS, KeyProviderRegistry } from './key-provider-registry';

export type LinkState = Extract<KeyLinkState, { exists: true }>;

/** A key link as the handlers that call its provider need it: loaded, in the caller's tenant scope, with its provider. */
@Injectable()
export class LinkedKeys {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(KEY_PROVIDERS) private readonly registry: KeyProviderRegistry,
  ) {}

  async load(keyLinkId: string, actor: Actor): Promise<LinkState> {
    const { state } = await this.aggregates.load(keyLinkStream(keyLinkId), keyLinkDecider);
    if (!state.exists) throw notFound('key-link', keyLinkId);
    assertTenantAccess(actor, state.tenantId);
    return state;
  }

  provider(link: Pick<LinkState, 'providerKind' | 'credentialRef'>): Promise<KeyProvider> {
    return this.registry.forLink(link);
  }
}
