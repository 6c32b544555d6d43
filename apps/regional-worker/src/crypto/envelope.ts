/**
 * The wrapped-blob format and the data-key layer (AES-256-GCM under an L2 key).
 *
 * Version 2 (written now) names its L2 key and nothing more; every worker learns the L1-wrapped L2 keys of a
 * link from the registry in its tenant view, so an L1 rotation re-wraps L2 keys without touching any blob:
 *
 *   version (1 byte, 0x02)
 *   keyLinkId length (1 byte) ‖ keyLinkId (UTF-8)
 *   l2Id (16 bytes, names the L2 key in the link's registry)
 *   IV (12 bytes) ‖ data-key ciphertext ‖ GCM tag (16 bytes)
 *
 * Version 1 (read only: blobs made before the registry) embeds the L1-wrapped L2 key after the l2Id:
 *
 *   wrapped L2 length (2 bytes, big-endian) ‖ wrapped L2 (the L1 provider's ciphertext of the L2 key)
 *
 * The GCM AAD is the tenant id, the system id (both from the caller's token, not the blob) and every header
 * byte before the IV, so a blob opens only for the tenant and system it was made for, under the link it names.
 * The L1 wrap of the L2 key has its own AAD binding tenant, key link and l2Id, so an L2 key cannot be moved.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const BLOB_VERSION = 2;
const LEGACY_BLOB_VERSION = 1;
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
}

export interface ParsedBlob extends BlobHeader {
  version: 1 | 2;
  /** Version 1 only: the L2 key wrapped under L1, as the blob carries it. */
  wrappedL2?: Buffer;
  /** Every byte before the IV, as authenticated. */
  header: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** The header of a version 2 blob. */
export function encodeHeader({ keyLinkId, l2Id }: BlobHeader): Buffer {
  return Buffer.concat([Buffer.from([BLOB_VERSION]), namePart(keyLinkId, l2Id)]);
}

/** The header of a version 1 blob: nothing writes these any more; kept so tests can make the blobs older workers made. */
export function encodeLegacyHeader({ keyLinkId, l2Id, wrappedL2 }: BlobHeader & { wrappedL2: Buffer }): Buffer {
  if (wrappedL2.length < 1 || wrappedL2.length > 0xffff) throw new RangeError('wrapped L2 must be 1 to 65535 bytes');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(wrappedL2.length);
  return Buffer.concat([Buffer.from([LEGACY_BLOB_VERSION]), namePart(keyLinkId, l2Id), length, wrappedL2]);
}

export function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < 2) throw new MalformedBlobError('too short');
  const version = blob[0];
  if (version !== BLOB_VERSION && version !== LEGACY_BLOB_VERSION) throw new MalformedBlobError(`unknown version ${version}`);
  const idLength = blob[1];
  let at = 2 + idLength;
  const lengthBytes = version === LEGACY_BLOB_VERSION ? 2 : 0;
  if (idLength === 0 || blob.length < at + L2_ID_BYTES + lengthBytes) throw new MalformedBlobError('truncated header');
  const keyLinkId = blob.subarray(2, at).toString('utf8');
  const l2Id = blob.subarray(at, at + L2_ID_BYTES);
  at += L2_ID_BYTES;
  let wrappedL2: Buffer | undefined;
  if (version === LEGACY_BLOB_VERSION) {
    const wrappedLength = blob.readUInt16BE(at);
    at += 2;
    if (wrappedLength === 0 || blob.length < at + wrappedLength) throw new MalformedBlobError('truncated body');
    wrappedL2 = blob.subarray(at, at + wrappedLength);
    at += wrappedLength;
  }
  if (blob.length < at + IV_BYTES + 1 + TAG_BYTES) throw new MalformedBlobError('truncated body');
  return {
    version: version as 1 | 2,
    keyLinkId,
    l2Id,
    ...(wrappedL2 ? { wrappedL2 } : {}),
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

/**
 * `kcv:` + the first 3 bytes of AES-256-ECB(L2, 0^128), hex: the classic key check value. It identifies the
 * key without revealing it, so it may go into events, and an unwrap that yields another key is caught.
 */
export function l2Fingerprint(l2: Buffer): string {
  const cipher = createCipheriv('aes-256-ecb', l2, null).setAutoPadding(false);
  const block = Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()]);
  return `kcv:${block.subarray(0, 3).toString('hex')}`;
}

function namePart(keyLinkId: string, l2Id: Buffer): Buffer {
  const id = Buffer.from(keyLinkId, 'utf8');
  if (id.length < 1 || id.length > 255) throw new RangeError('keyLinkId must be 1 to 255 bytes');
  if (l2Id.length !== L2_ID_BYTES) throw new RangeError(`l2Id must be ${L2_ID_BYTES} bytes`);
  return Buffer.concat([Buffer.from([id.length]), id, l2Id]);
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
