import type { DomainEvent } from '../shared/decider';

/**
 * The L2 (tenant key) registry of a key link, in `tenantkey-<keyLinkId>`. Facts reported by regional workers
 * and recorded by the mesh bridge, not decided by an aggregate: the bridge appends them with a command id per
 * (link, version) or per (L2, L1 version), so the first report wins and repeats record nothing.
 *
 * They carry the L2 key only as the L1 provider's ciphertext (`wrappedL2`, base64) and its key check value,
 * never the key itself.
 */

/** A worker generated L2 version `l2Version` of the link and wrapped it under L1; the first one registered wins. */
export type TenantKeyGenerated = DomainEvent<
  'TenantKeyGenerated',
  {
    keyLinkId: string;
    tenantId: string;
    /** 16 random bytes, hex: the id data-key blobs name. */
    l2Id: string;
    l2Version: number;
    /** Base64 of the L1 provider's ciphertext of the L2 key (AAD binds tenant, key link and l2Id). */
    wrappedL2: string;
    /** The L1 key version the worker wrapped under, where the provider versions keys. */
    l1KeyVersion?: string;
    /** `kcv:` + the first 3 bytes of AES-ECB(L2, 0^128), hex. */
    l2Fingerprint: string;
    region: string;
    workerId: string;
  }
>;

/** After an L1 rotation, an L2 key wrapped again under the new L1 version; the key (and every blob) unchanged. */
export type TenantKeyRewrapped = DomainEvent<
  'TenantKeyRewrapped',
  {
    keyLinkId: string;
    tenantId: string;
    l2Id: string;
    wrappedL2: string;
    l1KeyVersion: string;
    previousL1KeyVersion?: string;
    region: string;
    workerId: string;
  }
>;

export type TenantKeyEvent = TenantKeyGenerated | TenantKeyRewrapped;
export const TENANT_KEY_EVENT_TYPES: TenantKeyEvent['type'][] = ['TenantKeyGenerated', 'TenantKeyRewrapped'];
