import type { DomainEvent } from '../shared/decider';
import type { ImportWrappingAlgorithm, ImportWrappingKeySpec, KeyAlgorithm, KeyProblem, KeyProblemAction, LinkMode, ProviderKind } from './key-link.commands';

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
    credentialRef?: string;
  }
>;
export type KeyLinkActivated = DomainEvent<'KeyLinkActivated', { keyLinkId: string; tenantId: string }>;
/** The kill switch. Workers deny from the moment they see it. */
export type KeyLinkRevoked = DomainEvent<
  'KeyLinkRevoked',
  { keyLinkId: string; tenantId: string; reason: string; previousStatus: 'pending' | 'active'; automatic?: boolean }
>;
export type KeyLinkRestored = DomainEvent<
  'KeyLinkRestored',
  { keyLinkId: string; tenantId: string; reason: string; restoredStatus: 'pending' | 'active' }
>;
export type KeyUnlinked = DomainEvent<'KeyUnlinked', { keyLinkId: string; tenantId: string; reason: string }>;

/** A fresh random challenge went through the customer's key and came back: CMK can use the key now. */
export type KeyPossessionProven = DomainEvent<
  'KeyPossessionProven',
  { keyLinkId: string; tenantId: string; fingerprint: string; keyVersion?: string; latencyMs: number }
>;
/** BYOK: the provider issued a wrapping public key for one import. Nothing in it is secret. */
export type KeyImportParametersIssued = DomainEvent<
  'KeyImportParametersIssued',
  {
    keyLinkId: string;
    tenantId: string;
    importToken: string;
    wrappingAlgorithm: ImportWrappingAlgorithm;
    wrappingKeySpec: ImportWrappingKeySpec;
    publicKeyPem: string;
    publicKeyFingerprint: string;
    expiresAt: string;
  }
>;
/** BYOK: the provider accepted the customer's wrapped key material. Its fingerprint, never the material. */
export type KeyMaterialImported = DomainEvent<
  'KeyMaterialImported',
  { keyLinkId: string; tenantId: string; importToken: string; fingerprint: string; keyVersion?: string }
>;
/** A health sync found a problem with the key at the provider (recorded on change, not on every sync). */
export type KeyLinkDegraded = DomainEvent<
  'KeyLinkDegraded',
  { keyLinkId: string; tenantId: string; condition: KeyProblem; providerCode?: string; action: KeyProblemAction; policyId?: string; policyVersion?: number }
>;
export type KeyLinkHealthRestored = DomainEvent<'KeyLinkHealthRestored', { keyLinkId: string; tenantId: string; previousCondition: KeyProblem }>;
/** The key got a new version at the provider, found by a health sync (rotated by the customer or the provider). */
export type KeyVersionRotatedAtProvider = DomainEvent<
  'KeyVersionRotatedAtProvider',
  { keyLinkId: string; tenantId: string; previousVersion?: string; keyVersion: string; previousFingerprint?: string; fingerprint: string }
>;
/** CMK asked the provider for a new key version, and got it. */
export type KeyLinkRotated = DomainEvent<
  'KeyLinkRotated',
  { keyLinkId: string; tenantId: string; previousVersion?: string; keyVersion: string; fingerprint: string }
>;

/** The scheduler began rotating an overdue key at its provider; KeyLinkRotated completes it. */
export type KeyRotationStarted = DomainEvent<
  'KeyRotationStarted',
  { keyLinkId: string; tenantId: string; previousVersion?: string; maxAgeDays: number; policyId?: string; policyVersion?: number }
>;
/** An overdue key the provider cannot rotate (or no provider here reaches): a compliance finding for people. */
export type KeyRotationDue = DomainEvent<
  'KeyRotationDue',
  { keyLinkId: string; tenantId: string; keySince: string; maxAgeDays: number; why: 'provider-cannot-rotate' | 'provider-not-configured'; policyId?: string; policyVersion?: number }
>;

/**
 * A new L2 (tenant key) was asked for, by a key admin or by the rotation scheduler: workers seal new data keys
 * under the next L2 version only. Each one raises the link's L2 version by one (events recorded before the
 * version fields existed carry none; the count of these events is the version either way).
 */
export type TenantKeyRotationRequested = DomainEvent<
  'TenantKeyRotationRequested',
  {
    keyLinkId: string;
    tenantId: string;
    previousL2Version?: number;
    l2Version?: number;
    /** Scheduled rotations: the maximum age the previous version reached, and the policy that set it. */
    maxAgeDays?: number;
    policyId?: string;
    policyVersion?: number;
  }
>;

export type KeyLinkEvent =
  | KeyLinked
  | KeyLinkActivated
  | KeyLinkRevoked
  | KeyLinkRestored
  | KeyUnlinked
  | KeyPossessionProven
  | KeyImportParametersIssued
  | KeyMaterialImported
  | KeyLinkDegraded
  | KeyLinkHealthRestored
  | KeyVersionRotatedAtProvider
  | KeyLinkRotated
  | KeyRotationStarted
  | KeyRotationDue
  | TenantKeyRotationRequested;
export const KEY_LINK_EVENT_TYPES: KeyLinkEvent['type'][] = [
  'KeyLinked',
  'KeyLinkActivated',
  'KeyLinkRevoked',
  'KeyLinkRestored',
  'KeyUnlinked',
  'KeyPossessionProven',
  'KeyImportParametersIssued',
  'KeyMaterialImported',
  'KeyLinkDegraded',
  'KeyLinkHealthRestored',
  'KeyVersionRotatedAtProvider',
  'KeyLinkRotated',
  'KeyRotationStarted',
  'KeyRotationDue',
  'TenantKeyRotationRequested',
];
export * from './tenant-key.events';
