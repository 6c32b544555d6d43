import type { KeyVaultKey } from '@azure/keyvault-keys';
import { createPublicKey, KeyObject } from 'node:crypto';
import { keyVersionFingerprint, publicKeyFingerprint } from '../byok/byok-wrap';
import type { KeyDescription, KeyState } from '../key-provider.port';

/** What the adapter keeps about one key (one version of it): everything wrap needs besides the vault call. */
export interface AzureKeyInfo {
  /** Versioned key identifier, as the vault returned it. */
  kid: string;
  version: string;
  kind: 'oct' | 'rsa' | 'other';
  kty: string;
  enabled: boolean;
  notBefore?: Date;
  expiresOn?: Date;
  keyOps: string[];
  publicKey?: KeyObject;
  fetchedAt: number;
}

export function keyInfoFromBundle(key: KeyVaultKey, fetchedAt = Date.now()): AzureKeyInfo {
  const kid = key.id ?? key.key?.kid ?? '';
  const kty = String(key.keyType ?? key.key?.kty ?? '');
  const kind = kty.startsWith('oct') ? 'oct' : kty.startsWith('RSA') ? 'rsa' : 'other';
  let publicKey: KeyObject | undefined;
  if (kind === 'rsa' && key.key?.n && key.key?.e) {
    publicKey = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(key.key.n).toString('base64url'), e: Buffer.from(key.key.e).toString('base64url') },
      format: 'jwk',
    });
  }
  return {
    kid,
    version: key.properties.version ?? kid.split('/').pop() ?? '',
    kind,
    kty,
    enabled: key.properties.enabled !== false,
    notBefore: key.properties.notBefore,
    expiresOn: key.properties.expiresOn,
    keyOps: (key.keyOperations ?? []).map(String),
    publicKey,
    fetchedAt,
  };
}

/** Usable now: enabled and inside its validity period (the vault's `nbf` / `exp`). */
export function usableNow(info: AzureKeyInfo, now = Date.now()): boolean {
  return info.enabled && (!info.notBefore || info.notBefore.getTime() <= now) && (!info.expiresOn || info.expiresOn.getTime() > now);
}

export function describeFromInfo(ref: string, location: string, info: AzureKeyInfo, sizeBits: number, state?: KeyState): KeyDescription {
  return {
    ref,
    algorithm: info.kind === 'oct' ? 'AES' : info.kind === 'rsa' ? 'RSA' : info.kty,
    sizeBits: info.kind === 'rsa' ? info.publicKey!.asymmetricKeyDetails!.modulusLength! : sizeBits,
    state: state ?? (usableNow(info) ? 'enabled' : 'disabled'),
    location,
    version: info.version,
    // Symmetric material never leaves the HSM: the immutable version id stands in for it.
    fingerprint: info.publicKey ? publicKeyFingerprint(info.publicKey) : keyVersionFingerprint(info.kid),
  };
}
