import type { KeyMetadata } from '@aws-sdk/client-kms';
import { keyVersionFingerprint } from '../byok/byok-wrap';
import type { KeyAlgorithm, KeyDescription, KeyState } from '../key-provider.port';

const STATES: Record<string, KeyState> = {
  Enabled: 'enabled',
  Disabled: 'disabled',
  // Unavailable: the key's custom key store is disconnected; the key exists but cannot be used.
  Unavailable: 'disabled',
  PendingImport: 'pending-import',
  // Deletion can still be cancelled, but until then the key is a tombstone: nothing may use it.
  PendingDeletion: 'destroyed',
  PendingReplicaDeletion: 'destroyed',
};

export function keyState(metadata: KeyMetadata): KeyState {
  return STATES[metadata.KeyState ?? ''] ?? 'unknown';
}

/** KeySpec → family and size; SYMMETRIC_DEFAULT is AES-256-GCM inside KMS. */
export function keyShape(keySpec: string | undefined): { algorithm: KeyAlgorithm; sizeBits: number } {
  const spec = keySpec ?? 'SYMMETRIC_DEFAULT';
  if (spec === 'SYMMETRIC_DEFAULT') return { algorithm: 'AES', sizeBits: 256 };
  let m = /^RSA_(\d+)$/.exec(spec);
  if (m) return { algorithm: 'RSA', sizeBits: Number(m[1]) };
  m = /^ECC_(?:NIST|SECG)_P(\d+)K?1?$/.exec(spec);
  if (m) return { algorithm: 'EC', sizeBits: Number(m[1]) };
  m = /^HMAC_(\d+)$/.exec(spec);
  if (m) return { algorithm: 'HMAC', sizeBits: Number(m[1]) };
  if (spec === 'SM2') return { algorithm: 'SM2', sizeBits: 256 };
  return { algorithm: spec, sizeBits: 0 };
}

export function isSymmetricEncryptionKey(metadata: KeyMetadata): boolean {
  return (metadata.KeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT' && (metadata.KeyUsage ?? 'ENCRYPT_DECRYPT') === 'ENCRYPT_DECRYPT';
}

/**
 * The provider's version of the key: the current key material id where KMS reports one (it changes with each
 * rotation), else the key's ARN (endpoints that predate key material ids, such as local-kms, cannot show a
 * rotation, and a key has one identity for its whole life).
 */
export function keyVersion(metadata: KeyMetadata): string {
  return metadata.CurrentKeyMaterialId ?? metadata.Arn ?? metadata.KeyId ?? '';
}

/**
 * Describes a symmetric key: its fingerprint hashes the ARN and the version, so it names this key's current
 * material globally (material ids are only unique within a key) and reveals nothing about the material.
 * Asymmetric keys get the SPKI hash from the caller instead.
 */
export function describeFromMetadata(ref: string, metadata: KeyMetadata, fingerprint?: string): KeyDescription {
  const version = keyVersion(metadata);
  return {
    ref,
    ...keyShape(metadata.KeySpec),
    state: keyState(metadata),
    location: regionOf(metadata.Arn),
    version,
    fingerprint: fingerprint ?? keyVersionFingerprint(`${metadata.Arn ?? metadata.KeyId}#${version}`),
  };
}

function regionOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}
