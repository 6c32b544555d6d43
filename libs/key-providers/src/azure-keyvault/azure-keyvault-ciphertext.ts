import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The ciphertext this adapter returns, self-contained behind a format byte:
 *
 *   0x01 | scheme | len(version) | version (ASCII) | scheme body
 *
 * - scheme 0x01, `A256GCM` at the vault (oct-HSM keys): iv(12) | tag(16) | ciphertext. The aad goes to the vault
 *   as AES-GCM additionalAuthenticatedData.
 * - scheme 0x02, RSA-OAEP-256 envelope (RSA keys cannot bind aad): len(wrapped, u16 BE) | wrapped | iv(12) |
 *   tag(16) | ciphertext, where `wrapped` is a fresh AES-256 key wrapped by the vault with RSA-OAEP-256 and the
 *   ciphertext is AES-256-GCM under that key, with everything before the iv plus the caller's aad as GCM aad.
 *
 * The version names the key version that wrapped, so ciphertexts keep unwrapping after a rotation.
 */
export const FORMAT_V1 = 0x01;
export const SCHEME_VAULT_GCM = 0x01;
export const SCHEME_RSA_ENVELOPE = 0x02;
const IV = 12;
const TAG = 16;
const VERSION = /^[0-9a-zA-Z]{1,64}$/;

export type AzureCiphertext =
  | { scheme: typeof SCHEME_VAULT_GCM; version: string; iv: Buffer; tag: Buffer; body: Buffer }
  | { scheme: typeof SCHEME_RSA_ENVELOPE; version: string; header: Buffer; wrappedKey: Buffer; iv: Buffer; tag: Buffer; body: Buffer };

function prefix(scheme: number, version: string): Buffer {
  if (!VERSION.test(version)) throw new RangeError('the key version does not fit the ciphertext format');
  return Buffer.concat([Buffer.from([FORMAT_V1, scheme, version.length]), Buffer.from(version, 'ascii')]);
}

export function encodeVaultGcm(version: string, iv: Uint8Array, tag: Uint8Array, body: Uint8Array): Buffer {
  if (iv.length !== IV || tag.length !== TAG) throw new RangeError(`the vault returned an iv of ${iv.length} and a tag of ${tag.length} bytes; expected ${IV} and ${TAG}`);
  return Buffer.concat([prefix(SCHEME_VAULT_GCM, version), iv, tag, body]);
}

/** Seals `plaintext` under `envelopeKey` (AES-256-GCM) for scheme 0x02, binding the header and the aad. */
export function sealEnvelope(version: string, wrappedKey: Uint8Array, envelopeKey: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  if (wrappedKey.length === 0 || wrappedKey.length > 0xffff) throw new RangeError('the wrapped envelope key has an impossible length');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrappedKey.length);
  const header = Buffer.concat([prefix(SCHEME_RSA_ENVELOPE, version), length, wrappedKey]);
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', envelopeKey, iv);
  cipher.setAAD(Buffer.concat([header, aad ?? Buffer.alloc(0)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/** Opens scheme 0x02; undefined when the tag does not verify (wrong key, aad or any changed byte). */
export function openEnvelope(c: Extract<AzureCiphertext, { scheme: 2 }>, envelopeKey: Buffer, aad?: Buffer): Buffer | undefined {
  if (envelopeKey.length !== 32) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', envelopeKey, c.iv);
    decipher.setAAD(Buffer.concat([c.header, aad ?? Buffer.alloc(0)]));
    decipher.setAuthTag(c.tag);
    return Buffer.concat([decipher.update(c.body), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Parses without judging authenticity (the vault or GCM does that); undefined when the layout is wrong. */
export function decodeCiphertext(data: Buffer): AzureCiphertext | undefined {
  if (data.length < 4 || data[0] !== FORMAT_V1) return undefined;
  const scheme = data[1];
  const versionEnd = 3 + data[2];
  if (data[2] === 0 || data.length < versionEnd) return undefined;
  const version = data.subarray(3, versionEnd).toString('ascii');
  if (!VERSION.test(version)) return undefined;
  if (scheme === SCHEME_VAULT_GCM) {
    if (data.length < versionEnd + IV + TAG + 1) return undefined;
    const iv = data.subarray(versionEnd, versionEnd + IV);
    const tag = data.subarray(versionEnd + IV, versionEnd + IV + TAG);
    return { scheme, version, iv, tag, body: data.subarray(versionEnd + IV + TAG) };
  }
  if (scheme === SCHEME_RSA_ENVELOPE) {
    if (data.length < versionEnd + 2) return undefined;
    const wrappedEnd = versionEnd + 2 + data.readUInt16BE(versionEnd);
    if (wrappedEnd === versionEnd + 2 || data.length < wrappedEnd + IV + TAG + 1) return undefined;
    return {
      scheme,
      version,
      header: data.subarray(0, wrappedEnd),
      wrappedKey: data.subarray(versionEnd + 2, wrappedEnd),
      iv: data.subarray(wrappedEnd, wrappedEnd + IV),
      tag: data.subarray(wrappedEnd + IV, wrappedEnd + IV + TAG),
      body: data.subarray(wrappedEnd + IV + TAG),
    };
  }
  return undefined;
}
