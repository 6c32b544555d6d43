import { randomBytes } from 'node:crypto';
import { ImportRefusedError } from '../key-provider.errors';

/**
 * BYOK the way Key Vault / Managed HSM takes it (the "Bring your own key specification"): the customer's
 * material, wrapped offline under a key exchange key (KEK: an RSA-HSM key in the same vault with key_ops
 * ['import'] only), is sent as `key_hsm`, the base64url of a JSON transfer blob
 *
 *   { schema_version: '1.0.0', header: { kid: <KEK kid>, alg: 'dir', enc }, ciphertext: base64url(blob), generator }
 *
 * `enc` names the wrapping: CKM_RSA_AES_KEY_WRAP in the specification uses RSA-OAEP with SHA-1 for the ephemeral
 * AES key; CMK wraps with RSA-OAEP-SHA-256 (RSA_AES_KEY_WRAP_SHA_256), which Key Vault names RSA_AES_KEY_WRAP_256.
 */
export const KEY_HSM_ENC = 'RSA_AES_KEY_WRAP_256';
export const KEK_TARGET_TAG = 'cmk-import-target';
const GENERATOR = 'OpenKCM CMK byok-wrap (RSA-OAEP-SHA-256 + AES-KWP)';
/** RFC 5649 output for 32 bytes of AES-256 material: 8 bytes of integrity block + 32. */
const KWP_AES_256_BYTES = 40;

export function keyHsmTransferBlob(kekKid: string, wrapped: Buffer): Uint8Array {
  const blob = { schema_version: '1.0.0', header: { kid: kekKid, alg: 'dir', enc: KEY_HSM_ENC }, ciphertext: wrapped.toString('base64url'), generator: GENERATOR };
  return Buffer.from(JSON.stringify(blob), 'utf8');
}

/**
 * The length of a CKM_RSA_AES_KEY_WRAP blob is public (RSA block + RFC 5649 output), so the size of the material
 * inside is known without unwrapping: refuse anything that is not AES-256 before it reaches the vault, which
 * would otherwise import a 128- or 192-bit key under a name CMK declared as AES-256.
 */
export function checkWrappedLength(wrapped: Buffer, modulusBytes: number, keyRef: string): void {
  const details = { keyRef, operation: 'importKeyMaterial' };
  const tail = wrapped.length - modulusBytes;
  if (tail < 16 || tail % 8 !== 0) {
    throw new ImportRefusedError('corrupted', 'the wrapped key material is not a CKM_RSA_AES_KEY_WRAP blob for this wrapping key', details);
  }
  if (tail !== KWP_AES_256_BYTES) {
    throw new ImportRefusedError('key-size', `the wrapped key material holds about ${(tail - 8) * 8} bits; the target is an AES-256 key`, details);
  }
}

/** Key Vault names are at most 127 characters of [0-9a-zA-Z-]. */
export function kekName(target: string): string {
  const suffix = `-cmk-kek-${randomBytes(6).toString('hex')}`;
  return `${target.slice(0, 127 - suffix.length)}${suffix}`;
}
