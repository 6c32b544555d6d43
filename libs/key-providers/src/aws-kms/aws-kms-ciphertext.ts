import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The adapter's ciphertext: `0x01 || check(16) || KMS CiphertextBlob`.
 *
 * The blob is KMS's own self-contained ciphertext (it names the key and the key material version, so rotation
 * needs nothing more). The version byte lets a later format coexist with stored wraps. `check` is the first
 * 16 bytes of SHA-256 over the version and the blob: not a secret MAC (KMS authenticates the blob), but it
 * refuses a corrupted or truncated ciphertext without spending a KMS request, and it covers parts of the blob a
 * service may not authenticate (local-kms ignores the key ARN inside the blob when KeyId is given, so a changed
 * header there would otherwise still decrypt).
 */
export const AWS_KMS_CIPHERTEXT_V1 = 0x01;
const CHECK_BYTES = 16;
/** Header plus the smallest blob KMS could produce; AWS documents blobs of at most 6144 bytes. */
const MIN_BYTES = 1 + CHECK_BYTES + 1;
const MAX_BLOB_BYTES = 6144;

export function encodeAwsKmsCiphertext(blob: Uint8Array): Buffer {
  const version = Buffer.from([AWS_KMS_CIPHERTEXT_V1]);
  return Buffer.concat([version, check(version, blob), blob]);
}

/** The KMS blob inside, or undefined when the ciphertext is not a well-formed, unchanged v1 envelope. */
export function decodeAwsKmsCiphertext(ciphertext: Buffer): Buffer | undefined {
  if (ciphertext.length < MIN_BYTES || ciphertext.length > 1 + CHECK_BYTES + MAX_BLOB_BYTES) return undefined;
  if (ciphertext[0] !== AWS_KMS_CIPHERTEXT_V1) return undefined;
  const blob = ciphertext.subarray(1 + CHECK_BYTES);
  const expected = check(ciphertext.subarray(0, 1), blob);
  return timingSafeEqual(expected, ciphertext.subarray(1, 1 + CHECK_BYTES)) ? blob : undefined;
}

function check(version: Uint8Array, blob: Uint8Array): Buffer {
  return createHash('sha256').update(version).update(blob).digest().subarray(0, CHECK_BYTES);
}

/**
 * The aad travels as KMS encryption context, which KMS binds as GCM additional data and logs in CloudTrail:
 * base64 keeps arbitrary bytes printable (context values are UTF-8 strings). No aad (or an empty one) sends no
 * context, so a wrap without aad does not open with any aad and vice versa.
 */
export const AAD_CONTEXT_KEY = 'cmk:aad';

export function encryptionContext(aad: Buffer | undefined): Record<string, string> | undefined {
  return aad && aad.length > 0 ? { [AAD_CONTEXT_KEY]: aad.toString('base64') } : undefined;
}
