import type { DomainEvent } from '../shared/decider';

export type SystemRegistered = DomainEvent<
  'SystemRegistered',
  { systemId: string; tenantId: string; name: string; region: string; keyLinkId: string }
>;
export type SystemDeregistered = DomainEvent<'SystemDeregistered', { systemId: string; tenantId: string; reason: string }>;
export type SystemRebound = DomainEvent<
  'SystemRebound',
  { systemId: string; tenantId: string; fromKeyLinkId: string; toKeyLinkId: string }
>;

export type SystemEvent = SystemRegistered | SystemDeregistered | SystemRebound;
export const SYSTEM_EVENT_TYPES: SystemEvent['type'][] = ['SystemRegistered', 'SystemDeregistered', 'SystemRebound'];
