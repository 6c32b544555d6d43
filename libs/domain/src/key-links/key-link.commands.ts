/** `local` is the embedded demo's software key (never a sovereign root of trust; refused outside embedded mode). */
export const PROVIDER_KINDS = ['pkcs11', 'aws-kms', 'gcp-kms', 'azure-keyvault', 'local'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const LINK_MODES = ['BYOK', 'HYOK'] as const;
export type LinkMode = (typeof LINK_MODES)[number];
export const KEY_ALGORITHMS = ['AES', 'RSA', 'EC'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const IMPORT_WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type ImportWrappingAlgorithm = (typeof IMPORT_WRAPPING_ALGORITHMS)[number];
export const IMPORT_WRAPPING_KEY_SPECS = ['RSA_3072', 'RSA_4096'] as const;
export type ImportWrappingKeySpec = (typeof IMPORT_WRAPPING_KEY_SPECS)[number];

/**
 * What a health sync can find at the provider. `healthy`: the key is enabled, the round trip worked and it is the
 * key that was linked. Everything else is a problem: `disabled`, `destroyed` (deleted or pending deletion),
 * `not-found`, `access-denied` (our credentials no longer work), `unreachable` (the provider did not answer; may
 * be transient), `key-replaced` (same reference, different key material: never silently accepted).
 */
export const KEY_HEALTH_CONDITIONS = ['healthy', 'disabled', 'destroyed', 'not-found', 'access-denied', 'unreachable', 'key-replaced'] as const;
export type KeyHealthCondition = (typeof KEY_HEALTH_CONDITIONS)[number];
export type KeyProblem = Exclude<KeyHealthCondition, 'healthy'>;
/** What a key problem triggers (policy `hyokHealth.onProblem`; default warn). */
export type KeyProblemAction = 'warn' | 'revoke';

/** What the handler knows about the owning tenant when it decides (facts, not rules). */
export type TenantFact = 'active' | 'suspended' | 'offboarded' | 'missing';

/** A successful proof-of-possession round trip and what the provider said about the key at that moment. */
export interface PossessionProof {
  algorithm: string;
  sizeBits: number;
  fingerprint: string;
  keyVersion?: string;
  latencyMs: number;
}

/** One health observation of a linked key at its provider. */
export interface KeyObservation {
  condition: KeyHealthCondition;
  /** The provider's own status name when the provider refused (never its free text). */
  providerCode?: string;
  fingerprint?: string;
  keyVersion?: string;
}

export interface LinkKey {
  type: 'LinkKey';
  keyLinkId: string;
  tenantId: string;
  tenant: TenantFact;
  providerKind: ProviderKind;
  mode: LinkMode;
  /** Where the key lives at the provider (label, ARN, resource name). A reference, never key material. */
  keyReference: string;
  algorithm: KeyAlgorithm;
  keySize: number;
  providerRegion: string;
  /** Where the provider credentials for this link come from (`env:NAME`, `file:/path`, `secret:name`); never a credential. */
  credentialRef?: string;
}

export interface ActivateKeyLink {
  type: 'ActivateKeyLink';
  keyLinkId: string;
  tenant: TenantFact;
  /** Activation is only possible with a fresh proof of possession, taken by the handler just before. */
  proof?: PossessionProof;
}

export interface VerifyKeyLink {
  type: 'VerifyKeyLink';
  keyLinkId: string;
  proof: PossessionProof;
}

export interface IssueImportParameters {
  type: 'IssueImportParameters';
  keyLinkId: string;
  importToken: string;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: ImportWrappingKeySpec;
  publicKeyPem: string;
  publicKeyFingerprint: string;
  expiresAt: string;
}

export interface RecordKeyMaterialImport {
  type: 'RecordKeyMaterialImport';
  keyLinkId: string;
  importToken: string;
  /** What the provider reported after the import. */
  algorithm: string;
  sizeBits: number;
  fingerprint: string;
  keyVersion?: string;
  now: string;
}

export interface RecordKeyHealth {
  type: 'RecordKeyHealth';
  keyLinkId: string;
  observation: KeyObservation;
  onProblem: KeyProblemAction;
  /** The policy that set `onProblem`, named in an automatic revocation. */
  policy?: { policyId: string; version: number };
}

export interface RecordKeyRotation {
  type: 'RecordKeyRotation';
  keyLinkId: string;
  fingerprint: string;
  keyVersion: string;
}

/** The rotation scheduler starts rotating an overdue key (recorded first, so a crash never rotates twice). */
export interface StartKeyRotation {
  type: 'StartKeyRotation';
  keyLinkId: string;
  maxAgeDays: number;
  policy?: { policyId: string; version: number };
}

/** An overdue key that cannot be rotated from here: a finding for a person to act on. */
export interface RecordRotationDue {
  type: 'RecordRotationDue';
  keyLinkId: string;
  /** When the current key material came into use; one finding per key. */
  keySince: string;
  maxAgeDays: number;
  why: 'provider-cannot-rotate' | 'provider-not-configured';
  policy?: { policyId: string; version: number };
}

/** L2 rotation: new data keys under a new tenant key version; older versions keep opening older blobs. */
export interface RotateTenantKey {
  type: 'RotateTenantKey';
  keyLinkId: string;
  /**
   * The L2 version the caller wants replaced. When given, the request is refused unless it is still the current
   * version: the scheduler's guard against rotating one due version twice (two instances, a restart, a lagging
   * read model). Absent (a person asking): rotate whatever is current.
   */
  fromVersion?: number;
  /** Set by the scheduler: the maximum age that made the version due, and the policy that set it. */
  maxAgeDays?: number;
  policy?: { policyId: string; version: number };
}

export interface RevokeKeyLink {
  type: 'RevokeKeyLink';
  keyLinkId: string;
  reason: string;
}

export interface RestoreKeyLink {
  type: 'RestoreKeyLink';
  keyLinkId: string;
  reason: string;
  tenant: TenantFact;
}

export interface UnlinkKey {
  type: 'UnlinkKey';
  keyLinkId: string;
  reason: string;
}

export type KeyLinkCommand =
  | LinkKey
  | ActivateKeyLink
  | VerifyKeyLink
  | IssueImportParameters
  | RecordKeyMaterialImport
  | RecordKeyHealth
  | RecordKeyRotation
  | StartKeyRotation
  | RecordRotationDue
  | RotateTenantKey
  | RevokeKeyLink
  | RestoreKeyLink
  | UnlinkKey;
