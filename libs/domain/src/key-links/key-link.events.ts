import type { DomainEvent } from '../shared/decider';
import type { KeyAlgorithm, LinkMode, ProviderKind } from './key-link.commands';

export type KeyLinked = DomainEvent<
  'KeyLinked',
  {
    keyLinkId: string;
    tenantId: string;
    providerKind: ProviderKind;
    mode: LinkMode;
    keyReference: string;
    algorithm: KeyAlgorithm;
    keySize: number;
    providerRegion: string;
  }
>;
export type KeyLinkActivated = DomainEvent<'KeyLinkActivated', { keyLinkId: string; tenantId: string }>;
/** The kill switch. Workers deny from the moment they see it. */
export type KeyLinkRevoked = DomainEvent<
  'KeyLinkRevoked',
  { keyLinkId: string; tenantId: string; reason: string; previousStatus: 'pending' | 'active' }
>;
export type KeyLinkRestored = DomainEvent<
  'KeyLinkRestored',
  { keyLinkId: string; tenantId: string; reason: string; restoredStatus: 'pending' | 'active' }
>;
export type KeyUnlinked = DomainEvent<'KeyUnlinked', { keyLinkId: string; tenantId: string; reason: string }>;

export type KeyLinkEvent = KeyLinked | KeyLinkActivated | KeyLinkRevoked | KeyLinkRestored | KeyUnlinked;
export const KEY_LINK_EVENT_TYPES: KeyLinkEvent['type'][] = [
  'KeyLinked',
  'KeyLinkActivated',
  'KeyLinkRevoked',
  'KeyLinkRestored',
  'KeyUnlinked',
];
