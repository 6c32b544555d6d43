import type { PolicyDocument } from '@cmk/policy';
import type { DomainEvent } from '../shared/decider';
import type { AcceptedImpact } from './policy.commands';

export type PolicyDefined = DomainEvent<
  'PolicyDefined',
  { policyId: string; name: string; description?: string; version: 1; document: PolicyDocument }
>;
export type PolicyRevised = DomainEvent<'PolicyRevised', { policyId: string; version: number; document: PolicyDocument; acceptedImpact?: AcceptedImpact }>;
export type PolicyEvent = PolicyDefined | PolicyRevised;

export type PolicyAssigned = DomainEvent<'PolicyAssigned', { scope: string; policyId: string; version: number | 'latest'; acceptedImpact?: AcceptedImpact }>;
export type PolicyUnassigned = DomainEvent<'PolicyUnassigned', { scope: string; policyId: string }>;
export type PolicyScopeEvent = PolicyAssigned | PolicyUnassigned;

export const POLICY_EVENT_TYPES: (PolicyEvent | PolicyScopeEvent)['type'][] = [
  'PolicyDefined',
  'PolicyRevised',
  'PolicyAssigned',
  'PolicyUnassigned',
];
