import { createHash, randomBytes } from 'node:crypto';
import { ImportRefusedError } from '../key-provider.errors';
import type { ImportWrappingAlgorithm, ImportWrappingKeySpec } from '../key-provider.port';

/**
 * What one set of BYOK import parameters is bound to, kept on the token as the import key pair's CKA_ID (and so
 * the import token handed out, in hex). SoftHSM2 has no attribute for a time of day (CKA_END_DATE is a day), and
 * reading CKA_END_DATE back from a SoftHSM2 private key fails: the exact expiry lives here instead. The pair is
 * created with CKA_MODIFIABLE false and looked up by its whole CKA_ID, so a caller who edits the expiry, the
 * algorithm or the target in a token they were given names no pair at all.
 *
 * Layout (35 bytes): version | wrapping algorithm | key spec | expiry (unix seconds, u64 BE) |
 * first 8 bytes of SHA-256(target label) | 16 random bytes (also in the pair's label `cmk-import:<hex>`).
 */
export interface ImportTicket {
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: ImportWrappingKeySpec;
  /** Unix seconds: the parameters are refused from this second on. */
  expiresAtSeconds: number;
  targetDigest: Buffer;
  nonce: Buffer;
}

const VERSION = 1;
const BYTES = 35;
const ALGORITHMS: ImportWrappingAlgorithm[] = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'];
const SPECS: ImportWrappingKeySpec[] = ['RSA_3072', 'RSA_4096'];
export const IMPORT_PAIR_LABEL_PREFIX = 'cmk-import:';

export function newImportTicket(input: {
  wrappingAlgorithm: ImportWrappingAlgorithm;
  wrappingKeySpec: ImportWrappingKeySpec;
  expiresAtSeconds: number;
  targetLabel: string;
}): ImportTicket {
  return {
    wrappingAlgorithm: input.wrappingAlgorithm,
    wrappingKeySpec: input.wrappingKeySpec,
    expiresAtSeconds: input.expiresAtSeconds,
    targetDigest: targetDigest(input.targetLabel),
    nonce: randomBytes(16),
  };
}

export function targetDigest(label: string): Buffer {
  return createHash('sha256').update(label, 'utf8').digest().subarray(0, 8);
}

export function encodeImportTicket(t: ImportTicket): Buffer {
  const out = Buffer.alloc(BYTES);
  out[0] = VERSION;
  out[1] = ALGORITHMS.indexOf(t.wrappingAlgorithm) + 1;
  out[2] = SPECS.indexOf(t.wrappingKeySpec) + 1;
  out.writeBigUInt64BE(BigInt(t.expiresAtSeconds), 3);
  t.targetDigest.copy(out, 11);
  t.nonce.copy(out, 19);
  return out;
}

/** Anything that is not a ticket this adapter issued is a token that belongs to no parameters: `mismatch`. */
export function decodeImportToken(token: string, keyRef: string): { ticket: ImportTicket; id: Buffer } {
  const refuse = () =>
    new ImportRefusedError('mismatch', `the import token is not one this PKCS#11 provider issued (${keyRef})`, {
      keyRef,
      operation: 'importKeyMaterial',
    });
  if (typeof token !== 'string' || !/^[0-9a-f]+$/.test(token) || token.length !== BYTES * 2) throw refuse();
  const id = Buffer.from(token, 'hex');
  const algorithm = ALGORITHMS[id[1] - 1];
  const spec = SPECS[id[2] - 1];
  if (id[0] !== VERSION || !algorithm || !spec) throw refuse();
  return {
    id,
    ticket: {
      wrappingAlgorithm: algorithm,
      wrappingKeySpec: spec,
      expiresAtSeconds: Number(id.readBigUInt64BE(3)),
      targetDigest: Buffer.from(id.subarray(11, 19)),
      nonce: Buffer.from(id.subarray(19)),
    },
  };
}

export function importPairLabel(t: ImportTicket): string {
  return `${IMPORT_PAIR_LABEL_PREFIX}${t.nonce.toString('hex')}`;
}

/** CK_DATE (`YYYYMMDD`, UTC) of a unix time. */
export function ckDate(unixSeconds: number): Buffer {
  return Buffer.from(new Date(unixSeconds * 1000).toISOString().slice(0, 10).replace(/-/g, ''), 'ascii');
}
