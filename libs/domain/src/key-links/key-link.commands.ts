/** `local` is the embedded demo's software key (never a sovereign root of trust; refused outside embedded mode). */
export const PROVIDER_KINDS = ['pkcs11', 'aws-kms', 'gcp-kms', 'azure-keyvault', 'local'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const LINK_MODES = ['BYOK', 'HYOK'] as const;
export type LinkMode = (typeof LINK_MODES)[number];
export const KEY_ALGORITHMS = ['AES', 'RSA', 'EC'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** What the handler knows about the owning tenant when it decides (facts, not rules). */
export type TenantFact = 'active' | 'suspended' | 'offboarded' | 'missing';

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
}

export interface ActivateKeyLink {
  type: 'ActivateKeyLink';
  keyLinkId: string;
  tenant: TenantFact;
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

export type KeyLinkCommand = LinkKey | ActivateKeyLink | RevokeKeyLink | RestoreKeyLink | UnlinkKey;
