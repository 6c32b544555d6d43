/**
 * The wrapped-blob format and the data-key layer (AES-256-GCM under an L2 key). A blob is self-contained:
 * any worker whose region may serve the tenant, and whose provider reaches the same L1 key, can open it.
 *
 *   version (1 byte, 0x01)
 *   keyLinkId length (1 byte) ‖ keyLinkId (UTF-8)
 *   l2Id (16 random bytes, names the L2 key)
 *   wrapped L2 length (2 bytes, big-endian) ‖ wrapped L2 (the L1 provider's ciphertext of the L2 key)
 *   IV (12 bytes) ‖ data-key ciphertext ‖ GCM tag (16 bytes)
 *
 * The GCM AAD is the tenant id, the system id (both from the caller's token, not the blob) and every header
 * byte before the IV, so a blob opens only for the tenant and system it was made for, under the link it names.
 * The L1 wrap of the L2 key has its own AAD binding tenant, key link and l2Id, so an L2 key cannot be moved.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const BLOB_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const L2_ID_BYTES = 16;
export const L2_KEY_BYTES = 32;

export class MalformedBlobError extends Error {
  constructor(detail: string) {
    super(`malformed blob: ${detail}`);
    this.name = 'MalformedBlobError';
  }
}

/** The blob was not made for this tenant, system and key, or was changed. Never says which. */
export class BlobAuthenticationError extends Error {
  constructor() {
    super('the blob does not open for this tenant, system and key');
    this.name = 'BlobAuthenticationError';
  }
}

export interface BlobHeader {
  keyLinkId: string;
  l2Id: Buffer;
  wrappedL2: Buffer;
}

export interface ParsedBlob extends BlobHeader {
  /** Every byte before the IV, as authenticated. */
  header: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function encodeHeader({ keyLinkId, l2Id, wrappedL2 }: BlobHeader): Buffer {
  const id = Buffer.from(keyLinkId, 'utf8');
  if (id.length < 1 || id.length > 255) throw new RangeError('keyLinkId must be 1 to 255 bytes');
  if (l2Id.length !== L2_ID_BYTES) throw new RangeError(`l2Id must be ${L2_ID_BYTES} bytes`);
  if (wrappedL2.length < 1 || wrappedL2.length > 0xffff) throw new RangeError('wrapped L2 must be 1 to 65535 bytes');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrappedL2.length);
  return Buffer.concat([Buffer.from([BLOB_VERSION, id.length]), id, l2Id, length, wrappedL2]);
}

export function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < 2) throw new MalformedBlobError('too short');
  if (blob[0] !== BLOB_VERSION) throw new MalformedBlobError(`unknown version ${blob[0]}`);
  const idLength = blob[1];
  let at = 2 + idLength;
  if (idLength === 0 || blob.length < at + L2_ID_BYTES + 2) throw new MalformedBlobError('truncated header');
  const keyLinkId = blob.subarray(2, at).toString('utf8');
  const l2Id = blob.subarray(at, at + L2_ID_BYTES);
  at += L2_ID_BYTES;
  const wrappedLength = blob.readUInt16BE(at);
  at += 2;
  if (wrappedLength === 0 || blob.length < at + wrappedLength + IV_BYTES + 1 + TAG_BYTES) throw new MalformedBlobError('truncated body');
  const wrappedL2 = blob.subarray(at, at + wrappedLength);
  at += wrappedLength;
  return {
    keyLinkId,
    l2Id,
    wrappedL2,
    header: blob.subarray(0, at),
    iv: blob.subarray(at, at + IV_BYTES),
    ciphertext: blob.subarray(at + IV_BYTES, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}

/** Encrypts `plaintext` under the L2 key; returns the whole blob. */
export function seal(l2: Buffer, header: Buffer, tenantId: string, systemId: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', l2, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(dataAad(tenantId, systemId, header));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, ciphertext, cipher.getAuthTag()]);
}

export function open(l2: Buffer, blob: ParsedBlob, tenantId: string, systemId: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', l2, blob.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(dataAad(tenantId, systemId, blob.header));
    decipher.setAuthTag(blob.tag);
    return Buffer.concat([decipher.update(blob.ciphertext), decipher.final()]);
  } catch {
    throw new BlobAuthenticationError();
  }
}

/** AAD of the L1 wrap of an L2 key. */
export function l1Aad(tenantId: string, keyLinkId: string, l2Id: Buffer): Buffer {
  return Buffer.concat([Buffer.from('cmk-l2-v1'), lengthPrefixed(tenantId), lengthPrefixed(keyLinkId), l2Id]);
}

function dataAad(tenantId: string, systemId: string, header: Buffer): Buffer {
  return Buffer.concat([Buffer.from('cmk-dk-v1'), lengthPrefixed(tenantId), lengthPrefixed(systemId), header]);
}

/** Length-prefixed, so no choice of ids can make two different tuples encode alike. */
function lengthPrefixed(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
