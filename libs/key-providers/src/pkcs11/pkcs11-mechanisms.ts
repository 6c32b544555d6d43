import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { InvalidCiphertextError, UnsupportedOperationError } from '../key-provider.errors';
import { ckrName, ckrOf, isCkr } from './pkcs11-errors';
import type { Pkcs11CallMode, RsaOaepMode } from './pkcs11-key-provider.config';
export type { Pkcs11CallMode };
import { oaepDecodeSha256, oaepEncodeSha256, oaepMaxMessageBytes } from './rsa-oaep';

type Lib = pkcs11js.PKCS11;

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;


export interface DataCalls {
  encrypt(lib: Lib, session: Buffer, input: Buffer, output: Buffer): Promise<Buffer>;
  decrypt(lib: Lib, session: Buffer, input: Buffer, output: Buffer): Promise<Buffer>;
}

export const dataCalls: Record<Pkcs11CallMode, DataCalls> = {
  async: {
    encrypt: (lib, session, input, output) => lib.C_EncryptAsync(session, input, output),
    decrypt: (lib, session, input, output) => lib.C_DecryptAsync(session, input, output),
  },
  sync: {
    encrypt: async (lib, session, input, output) => lib.C_Encrypt(session, input, output),
    decrypt: async (lib, session, input, output) => lib.C_Decrypt(session, input, output),
  },
};

/**
 * AES-GCM (CKM_AES_GCM) with a 96-bit IV drawn at random for each wrap and a 128-bit tag; the blob is
 * IV || ciphertext || tag. Random IVs keep the NIST SP 800-38D bound of 2^32 wraps per key, far above what a
 * root key wrapping tenant keys sees. An empty aad is the same as none.
 */
export async function aesGcmEncrypt(
  calls: DataCalls,
  lib: Lib,
  session: Buffer,
  key: Buffer,
  plaintext: Buffer,
  aad?: Buffer,
): Promise<Buffer> {
  const iv = randomBytes(GCM_IV_BYTES);
  lib.C_EncryptInit(session, gcm(iv, aad), key);
  const body = await calls.encrypt(lib, session, plaintext, Buffer.alloc(plaintext.length + GCM_TAG_BYTES));
  return Buffer.concat([iv, body]);
}

export async function aesGcmDecrypt(
  calls: DataCalls,
  lib: Lib,
  session: Buffer,
  key: Buffer,
  blob: Buffer,
  aad: Buffer | undefined,
  keyRef: string,
): Promise<Buffer> {
  if (blob.length < GCM_IV_BYTES + GCM_TAG_BYTES) {
    throw new InvalidCiphertextError(`ciphertext too short for AES-GCM under ${keyRef}`, { keyRef, operation: 'unwrap' });
  }
  const iv = blob.subarray(0, GCM_IV_BYTES);
  const body = blob.subarray(GCM_IV_BYTES);
  lib.C_DecryptInit(session, gcm(iv, aad), key);
  return authenticatedDecrypt(() => calls.decrypt(lib, session, body, Buffer.alloc(body.length)), keyRef);
}

function gcm(iv: Buffer, aad?: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: iv.length * 8, tagBits: GCM_TAG_BYTES * 8 };
  if (aad && aad.length > 0) parameter.aad = aad;
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

/**
 * RSAES-OAEP with SHA-256 and MGF1-SHA-256, the aad as OAEP label. Native CKM_RSA_PKCS_OAEP when the token takes
 * these parameters, otherwise the token's raw RSA (CKM_RSA_X_509) with the padding done in `rsa-oaep.ts`: same
 * ciphertexts either way, and the token still enforces CKA_ENCRYPT / CKA_DECRYPT. Encryption uses the public key
 * object on the token (not a local copy), so disabling it at the HSM stops wraps too.
 */
export class RsaOaepSha256 {
  private mode: 'native' | 'raw-rsa' | undefined;

  constructor(
    configured: RsaOaepMode,
    private readonly calls: DataCalls,
    private readonly onFallback: (providerCode: string) => void,
  ) {
    this.mode = configured === 'auto' ? undefined : configured;
  }

  get currentMode(): 'native' | 'raw-rsa' | 'undecided' {
    return this.mode ?? 'undecided';
  }

  async encrypt(lib: Lib, session: Buffer, publicKey: Buffer, k: number, plaintext: Buffer, aad: Buffer | undefined, keyRef: string): Promise<Buffer> {
    if (plaintext.length > oaepMaxMessageBytes(k)) {
      throw new UnsupportedOperationError(
        `RSA-OAEP-SHA-256 with a ${k * 8}-bit key wraps at most ${oaepMaxMessageBytes(k)} bytes, not ${plaintext.length}`,
        { keyRef, operation: 'wrap' },
      );
    }
    if (this.init(() => lib.C_EncryptInit(session, this.native(aad), publicKey))) {
      return leftPad(await this.calls.encrypt(lib, session, plaintext, Buffer.alloc(k)), k);
    }
    const em = oaepEncodeSha256(plaintext, k, aad);
    lib.C_EncryptInit(session, { mechanism: pkcs11js.CKM_RSA_X_509 }, publicKey);
    try {
      return leftPad(await this.calls.encrypt(lib, session, em, Buffer.alloc(k)), k);
    } finally {
      em.fill(0);
    }
  }

  async decrypt(lib: Lib, session: Buffer, privateKey: Buffer, k: number, ciphertext: Buffer, aad: Buffer | undefined, keyRef: string): Promise<Buffer> {
    if (ciphertext.length !== k) {
      throw new InvalidCiphertextError(`ciphertext is not ${k} bytes long, as RSA-OAEP under ${keyRef} produces`, {
        keyRef,
        operation: 'unwrap',
      });
    }
    if (this.init(() => lib.C_DecryptInit(session, this.native(aad), privateKey))) {
      return authenticatedDecrypt(() => this.calls.decrypt(lib, session, ciphertext, Buffer.alloc(k)), keyRef);
    }
    lib.C_DecryptInit(session, { mechanism: pkcs11js.CKM_RSA_X_509 }, privateKey);
    const em = leftPad(await authenticatedDecrypt(() => this.calls.decrypt(lib, session, ciphertext, Buffer.alloc(k)), keyRef), k);
    const message = oaepDecodeSha256(em, k, aad);
    em.fill(0);
    if (!message) throw new InvalidCiphertextError(`ciphertext does not verify under ${keyRef}`, { keyRef, operation: 'unwrap' });
    return message;
  }

  /** Runs the native init when native is (or may be) supported; false means: use raw RSA. */
  private init(nativeInit: () => void): boolean {
    if (this.mode === 'raw-rsa') return false;
    try {
      nativeInit();
      this.mode = 'native';
      return true;
    } catch (e) {
      if (this.mode === undefined && isCkr(e, 'CKR_ARGUMENTS_BAD', 'CKR_MECHANISM_PARAM_INVALID', 'CKR_MECHANISM_INVALID')) {
        this.mode = 'raw-rsa';
        this.onFallback(ckrName(ckrOf(e)!));
        return false;
      }
      throw e;
    }
  }

  private native(aad?: Buffer): pkcs11js.Mechanism {
    const parameter: pkcs11js.RsaOAEP = {
      type: pkcs11js.CK_PARAMS_RSA_OAEP,
      hashAlg: pkcs11js.CKM_SHA256,
      mgf: pkcs11js.CKG_MGF1_SHA256,
      source: CKZ_DATA_SPECIFIED,
    };
    if (aad && aad.length > 0) parameter.sourceData = aad;
    return { mechanism: pkcs11js.CKM_RSA_PKCS_OAEP, parameter };
  }
}

/** pkcs11js does not export it; PKCS#11 v2.40 section 2.1.8. */
const CKZ_DATA_SPECIFIED = 0x00000001;

/**
 * A failed C_Decrypt of an authenticated mechanism means "not our ciphertext". SoftHSM2 2.6 reports an AES-GCM tag
 * mismatch (and a raw RSA input not below the modulus) as CKR_GENERAL_ERROR, so that code counts here too.
 */
async function authenticatedDecrypt(call: () => Promise<Buffer>, keyRef: string): Promise<Buffer> {
  try {
    return await call();
  } catch (e) {
    if (isCkr(e, 'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR')) {
      throw new InvalidCiphertextError(`ciphertext does not verify under ${keyRef}`, {
        keyRef,
        operation: 'unwrap',
        providerCode: ckrName(ckrOf(e)!),
      });
    }
    throw e;
  }
}

function leftPad(b: Buffer, k: number): Buffer {
  if (b.length >= k) return b;
  return Buffer.concat([Buffer.alloc(k - b.length), b]);
}
