import { keyVersionFingerprint } from '../byok/byok-wrap';
import type { KeyAlgorithm, KeyDescription, KeyState } from '../key-provider.port';
import { parseVersionName } from './gcp-kms-key-ref';

/** The slice of a CryptoKeyVersion the adapter reads (enums as the client library returns them: names). */
export interface GcpVersionShape {
  name?: string | null;
  state?: string | number | null;
  algorithm?: string | number | null;
  protectionLevel?: string | number | null;
}

export interface GcpCryptoKeyShape {
  name?: string | null;
  purpose?: string | number | null;
  primary?: GcpVersionShape | null;
  importOnly?: boolean | null;
  versionTemplate?: { algorithm?: string | number | null; protectionLevel?: string | number | null } | null;
}

const STATES: Record<string, KeyState> = {
  ENABLED: 'enabled',
  DISABLED: 'disabled',
  DESTROYED: 'destroyed',
  DESTROY_SCHEDULED: 'destroyed',
  PENDING_EXTERNAL_DESTRUCTION: 'destroyed',
  EXTERNAL_DESTRUCTION_FAILED: 'destroyed',
  PENDING_IMPORT: 'pending-import',
};

/** Cloud KMS algorithm names → key family and size; GOOGLE_SYMMETRIC_ENCRYPTION is AES-256-GCM. */
export function algorithmOf(name: string): { algorithm: KeyAlgorithm; sizeBits: number } {
  if (name === 'GOOGLE_SYMMETRIC_ENCRYPTION') return { algorithm: 'AES', sizeBits: 256 };
  const aes = /^AES_(128|256)_(GCM|CBC|CTR)$/.exec(name);
  if (aes) return { algorithm: 'AES', sizeBits: Number(aes[1]) };
  const rsa = /^RSA_(?:SIGN|DECRYPT)_[A-Z0-9_]*?(2048|3072|4096)/.exec(name);
  if (rsa) return { algorithm: 'RSA', sizeBits: Number(rsa[1]) };
  const ec = /^EC_SIGN_(P256|P384|SECP256K1|ED25519)/.exec(name);
  if (ec) return { algorithm: 'EC', sizeBits: ec[1] === 'P384' ? 384 : 256 };
  const hmac = /^HMAC_SHA(1|224|256|384|512)$/.exec(name);
  if (hmac) return { algorithm: 'HMAC', sizeBits: hmac[1] === '1' ? 160 : Number(hmac[1]) };
  return { algorithm: name || 'UNKNOWN', sizeBits: 0 };
}

export function versionState(version: GcpVersionShape | null | undefined): KeyState {
  return STATES[String(version?.state ?? '')] ?? 'unknown';
}

export function isSymmetricEncryptionKey(key: GcpCryptoKeyShape): boolean {
  return key.purpose === 'ENCRYPT_DECRYPT';
}

/**
 * A key is described by its primary version, the one new wraps use: its state, its id as `version`, and the
 * fingerprint of its immutable resource name (Cloud KMS reveals nothing derived from symmetric material). A key
 * without a primary is an import target awaiting material (or a key whose versions were all destroyed).
 */
export function describeCryptoKey(ref: string, location: string, key: GcpCryptoKeyShape): KeyDescription {
  const primary = key.primary ?? undefined;
  const { algorithm, sizeBits } = algorithmOf(String(primary?.algorithm ?? key.versionTemplate?.algorithm ?? ''));
  if (!primary?.name) {
    return { ref, algorithm, sizeBits, state: key.importOnly ? 'pending-import' : 'unknown', location, fingerprint: 'unavailable' };
  }
  return {
    ref,
    algorithm,
    sizeBits,
    state: versionState(primary),
    location,
    version: parseVersionName(primary.name)?.versionId ?? primary.name,
    fingerprint: keyVersionFingerprint(primary.name),
  };
}
