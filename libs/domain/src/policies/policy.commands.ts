import type { PolicyDocument } from '@cmk/policy';

export interface DefinePolicy {
  type: 'DefinePolicy';
  policyId: string;
  name: string;
  description?: string;
  document: PolicyDocument;
}

/** A new version; policies are never edited in place. */
export interface RevisePolicy {
  type: 'RevisePolicy';
  policyId: string;
  document: PolicyDocument;
  /** Optional optimistic guard: the version the author based the change on. */
  basedOnVersion?: number;
  /** The non-compliance this change causes, which the author saw and accepted (recorded in the event). */
  acceptedImpact?: AcceptedImpact;
}

/** Existing key links (and their tenants) a policy change makes non-compliant, accepted by the author. */
export interface AcceptedImpact {
  keyLinks: number;
  tenants: number;
}

export type PolicyCommand = DefinePolicy | RevisePolicy;

/** Facts about the policy being assigned, supplied by the handler. */
export type PolicyFact = { exists: false } | { exists: true; latestVersion: number };

export interface AssignPolicy {
  type: 'AssignPolicy';
  /** 'global' or a tenant id. */
  scope: string;
  policyId: string;
  policy: PolicyFact;
  /** Pin a version; absent means "follow the latest version". */
  version?: number;
  acceptedImpact?: AcceptedImpact;
}

export interface UnassignPolicy {
  type: 'UnassignPolicy';
  scope: string;
  policyId: string;
}

export type PolicyScopeCommand = AssignPolicy | UnassignPolicy;
