import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { ImportRefusedError } from '../key-provider.errors';
import type { ImportWrappingAlgorithm, ImportWrappingKeySpec } from '../key-provider.port';

/** RFC 5649 alternative initial value; Node's `id-aes256-wrap-pad` takes it as the IV. */
const KWP_IV = Buffer.from('a65959a6', 'hex');
const EPHEMERAL_AES_BYTES = 32;

export const WRAPPING_KEY_BITS: Record<ImportWrappingKeySpec, number> = { RSA_3072: 3072, RSA_4096: 4096 };

/**
 * Wraps key material for a BYOK import, on the customer's machine (`cmk byok wrap`): RSA-OAEP-SHA-256 directly,
 * or CKM_RSA_AES_KEY_WRAP (OAEP-wrapped fresh AES-256 key || RFC 5649 AES-KWP of the material). The public key
 * must be an RSA key of at least 3072 bits; anything else is refused before anything is wrapped.
 */
export function wrapKeyMaterialForImport(input: {
  publicKeyPem: string;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  keyMaterial: Buffer;
}): Buffer {
  const publicKey = rsaPublicKey(input.publicKeyPem);
  const oaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  if (input.wrappingAlgorithm === 'RSAES_OAEP_SHA_256') {
    const maxBytes = publicKey.asymmetricKeyDetails!.modulusLength! / 8 - 2 * 32 - 2;
    if (input.keyMaterial.length > maxBytes) throw new RangeError(`key material of ${input.keyMaterial.length} bytes is too long for RSA-OAEP under this key (max ${maxBytes}); use RSA_AES_KEY_WRAP_SHA_256`);
    return oaep(input.keyMaterial);
  }
  const ephemeral = randomBytes(EPHEMERAL_AES_BYTES);
  try {
    const cipher = createCipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
    const wrapped = Buffer.concat([cipher.update(input.keyMaterial), cipher.final()]);
    return Buffer.concat([oaep(ephemeral), wrapped]);
  } finally {
    ephemeral.fill(0);
  }
}

/**
 * The provider side of {@link wrapKeyMaterialForImport}, for providers that unwrap in software inside their own
 * boundary (test doubles of cloud KMSs; never the control plane). Failures are {@link ImportRefusedError}
 * `corrupted`: nothing says which byte was wrong.
 */
export function unwrapImportedKeyMaterial(input: {
  privateKey: KeyObject;
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappedKeyMaterial: Buffer;
}): Buffer {
  const modulusBytes = input.privateKey.asymmetricKeyDetails!.modulusLength! / 8;
  const oaep = (data: Buffer) => privateDecrypt({ key: input.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);
  try {
    if (input.wrappingAlgorithm === 'RSAES_OAEP_SHA_256') {
      if (input.wrappedKeyMaterial.length !== modulusBytes) throw new Error('length');
      return oaep(input.wrappedKeyMaterial);
    }
    if (input.wrappedKeyMaterial.length < modulusBytes + 16) throw new Error('length');
    const ephemeral = oaep(input.wrappedKeyMaterial.subarray(0, modulusBytes));
    try {
      if (ephemeral.length !== EPHEMERAL_AES_BYTES) throw new Error('ephemeral');
      const decipher = createDecipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
      return Buffer.concat([decipher.update(input.wrappedKeyMaterial.subarray(modulusBytes)), decipher.final()]);
    } finally {
      ephemeral.fill(0);
    }
  } catch {
    throw new ImportRefusedError('corrupted', `the wrapped key material does not unwrap under the import wrapping key (${input.wrappingAlgorithm})`);
  }
}

/** The classic key check value of an AES key (AES-ECB over a zero block, first 3 bytes), as HSMs and BYOK tools print it. */
export function aesKeyCheckValue(material: Buffer): string {
  if (![16, 24, 32].includes(material.length)) throw new RangeError('an AES key is 16, 24 or 32 bytes');
  const cipher = createCipheriv(`aes-${material.length * 8}-ecb`, material, null).setAutoPadding(false);
  return `kcv:${cipher.update(Buffer.alloc(16)).subarray(0, 3).toString('hex')}`;
}

/** The fingerprint of a cloud KMS key version (see KeyDescription.fingerprint): reveals nothing about the material. */
export function keyVersionFingerprint(providerVersionId: string): string {
  return `keyversion:sha256:${createHash('sha256').update(providerVersionId).digest('hex')}`;
}

/** The SHA-256 of the DER SubjectPublicKeyInfo, the fingerprint of asymmetric keys. */
export function publicKeyFingerprint(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

function rsaPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new RangeError('the import parameters do not hold a readable public key (PEM SubjectPublicKeyInfo)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new RangeError(`the wrapping key must be RSA, not ${key.asymmetricKeyType}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 3072) throw new RangeError(`the wrapping key has ${bits} bits; at least 3072 are required`);
  return key;
}
