import type { TenantFact } from '../key-links/key-link.commands';

/** What the handler knows about the key link a system is to be bound to. */
export type KeyLinkFact = { exists: false } | { exists: true; tenantId: string; status: 'pending' | 'active' | 'revoked' | 'unlinked' };

export interface RegisterSystem {
  type: 'RegisterSystem';
  systemId: string;
  tenantId: string;
  tenant: TenantFact;
  name: string;
  region: string;
  keyLinkId: string;
  keyLink: KeyLinkFact;
}

export interface DeregisterSystem {
  type: 'DeregisterSystem';
  systemId: string;
  reason: string;
}

export interface RebindSystem {
  type: 'RebindSystem';
  systemId: string;
  keyLinkId: string;
  keyLink: KeyLinkFact;
}

export type SystemCommand = RegisterSystem | DeregisterSystem | RebindSystem;
