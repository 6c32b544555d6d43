/**
 * The adapter's ciphertext: `0x01 || Cloud KMS ciphertext`.
 *
 * Cloud KMS ciphertexts are self-contained and authenticated by the service (they name the key version that made
 * them, so Decrypt on the CryptoKey finds it after any number of rotations). The version byte lets a later format
 * coexist with stored wraps; everything after it is the service's and is checked by the service.
 */
export const GCP_KMS_CIPHERTEXT_V1 = 0x01;
/** Plaintexts are at most 64 KiB; the service's framing adds far less than this margin, so longer is never one. */
const MAX_BLOB_BYTES = 65_536 + 800;

export function encodeGcpKmsCiphertext(blob: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([GCP_KMS_CIPHERTEXT_V1]), blob]);
}

/** The Cloud KMS ciphertext inside, or undefined when the envelope is not a v1 one. */
export function decodeGcpKmsCiphertext(ciphertext: Buffer): Buffer | undefined {
  if (ciphertext.length < 2 || ciphertext.length > 1 + MAX_BLOB_BYTES || ciphertext[0] !== GCP_KMS_CIPHERTEXT_V1) return undefined;
  return ciphertext.subarray(1);
}
