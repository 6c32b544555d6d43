import type { ImportWrappingAlgorithm, ImportWrappingKeySpec } from '../key-provider.port';

/**
 * Cloud KMS import methods for the port's wrapping schemes. Google's `RSA_OAEP_*_SHA256_AES_256` blob is
 * OAEP-SHA-256(ephemeral AES-256 key) || AES-KWP (RFC 5649) of the material: the port's RSA_AES_KEY_WRAP_SHA_256.
 * The SHA-1 variants are not offered (the port has no SHA-1 wrapping).
 */
const METHODS: Record<ImportWrappingAlgorithm, Record<ImportWrappingKeySpec, string>> = {
  RSAES_OAEP_SHA_256: { RSA_3072: 'RSA_OAEP_3072_SHA256', RSA_4096: 'RSA_OAEP_4096_SHA256' },
  RSA_AES_KEY_WRAP_SHA_256: { RSA_3072: 'RSA_OAEP_3072_SHA256_AES_256', RSA_4096: 'RSA_OAEP_4096_SHA256_AES_256' },
};

export function importMethodFor(algorithm: ImportWrappingAlgorithm, spec: ImportWrappingKeySpec): string | undefined {
  return METHODS[algorithm]?.[spec];
}

/** The wrapping algorithm an import method implies, to refuse material declared under another one. */
export function wrappingAlgorithmOf(importMethod: string | number | null | undefined): ImportWrappingAlgorithm | undefined {
  for (const [algorithm, specs] of Object.entries(METHODS) as Array<[ImportWrappingAlgorithm, Record<string, string>]>) {
    if (Object.values(specs).includes(String(importMethod))) return algorithm;
  }
  return undefined;
}

/** Import job ids are Cloud KMS ids (1-63 of [a-zA-Z0-9_-]); a random suffix keeps each job distinct. */
export function importJobId(cryptoKey: string, suffix: string): string {
  return `cmk-${cryptoKey.slice(0, 63 - 'cmk-'.length - 1 - suffix.length)}-${suffix}`;
}

/** google.protobuf.Timestamp as the client library returns it (seconds may be a number, string or Long). */
export function timestampToDate(ts: { seconds?: unknown; nanos?: unknown } | null | undefined): Date | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  const seconds = Number(String(ts.seconds));
  const nanos = typeof ts.nanos === 'number' ? ts.nanos : 0;
  return Number.isFinite(seconds) ? new Date(seconds * 1000 + Math.floor(nanos / 1e6)) : undefined;
}
