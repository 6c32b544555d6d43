import { constants, createCipheriv, createPublicKey, KeyObject, publicEncrypt, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { ImportRefusedError, UnsupportedOperationError } from '../key-provider.errors';
import type { ImportParameters, ImportParametersRequest, ImportWrappingAlgorithm, KeyMaterialImport } from '../key-provider.port';
import { ckrName, ckrOf, isCkr } from './pkcs11-errors';
import {
  ckDate,
  decodeImportToken,
  encodeImportTicket,
  importPairLabel,
  ImportTicket,
  newImportTicket,
  targetDigest,
} from './pkcs11-import-ticket';
import { findObjects, readUlong } from './pkcs11-keys';

type Lib = pkcs11js.PKCS11;

/**
 * `sha256` is what the port's wrapping algorithms name and what the adapter always uses. `sha1` exists because
 * SoftHSM2 (every release, the tests' token) does CKM_RSA_PKCS_OAEP with SHA-1 only: it lets the tests drive the
 * token-side steps below on a real token. It is not reachable through the adapter's configuration.
 */
export type ImportOaepHash = 'sha256' | 'sha1';

export interface Pkcs11ImporterOptions {
  /** How long import parameters stay valid. */
  ttlMs: number;
  oaepHash?: ImportOaepHash;
  now?: () => number;
}

/** The key an import creates: a label on this provider's token (`object=` of the reference). */
export interface ImportTarget {
  label: string;
  keyRef: string;
}

export interface ImportedKey {
  handle: Buffer;
  sizeBits: number;
  fingerprint: string;
}

export type ImportCapability = { supported: true } | { supported: false; reason: string; providerCode?: string };

const MATERIAL_BYTES = 32;
const KWP_IV = Buffer.from('a65959a6', 'hex');
/** RFC 5649 output for 25 to 32 bytes of material: 8-byte integrity block + 32 bytes. */
const KWP_BYTES_FOR_32 = 40;
const CKZ_DATA_SPECIFIED = 0x00000001;
const PENDING_PREFIX = 'cmk-import-pending:';

/**
 * BYOK into a PKCS#11 token, inside the token: the import key pair is generated on it (private half sensitive,
 * non-extractable, CKA_UNWRAP only), the customer's material is unwrapped by C_UnwrapKey straight into a
 * sensitive, non-extractable AES object, and nothing in plaintext ever passes through this process. Callers pass
 * a read-write session that is logged in.
 */
export class Pkcs11KeyImporter {
  private readonly oaepHash: ImportOaepHash;
  private readonly now: () => number;

  constructor(private readonly options: Pkcs11ImporterOptions) {
    this.oaepHash = options.oaepHash ?? 'sha256';
    this.now = options.now ?? Date.now;
  }

  /** Generates the import pair for `target` on the token; refuses (`state`) when the label is taken. */
  async createParameters(lib: Lib, session: Buffer, target: ImportTarget, request: ImportParametersRequest): Promise<ImportParameters> {
    this.refuseTakenLabel(lib, session, target, 'getImportParameters');
    const ticket = newImportTicket({
      ...request,
      expiresAtSeconds: Math.floor((this.now() + this.options.ttlMs) / 1000),
      targetLabel: target.label,
    });
    const id = encodeImportTicket(ticket);
    const common: pkcs11js.Template = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_MODIFIABLE, value: false },
      { type: pkcs11js.CKA_LABEL, value: importPairLabel(ticket) },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_START_DATE, value: ckDate(Math.floor(this.now() / 1000)) },
      { type: pkcs11js.CKA_END_DATE, value: ckDate(ticket.expiresAtSeconds) },
    ];
    // Off the event loop: a 4096-bit key pair takes SoftHSM2 a second or more.
    const { publicKey } = await lib.C_GenerateKeyPairAsync(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        ...common,
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_MODULUS_BITS, value: request.wrappingKeySpec === 'RSA_4096' ? 4096 : 3072 },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ...usage('public', {}),
      ],
      [...common, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: false }, ...usage('private', { unwrap: true })],
    );
    return {
      importToken: id.toString('hex'),
      wrappingAlgorithm: request.wrappingAlgorithm,
      wrappingKeySpec: request.wrappingKeySpec,
      publicKeyPem: publicKeyOf(lib, session, publicKey).export({ type: 'spki', format: 'pem' }).toString(),
      expiresAt: new Date(ticket.expiresAtSeconds * 1000),
    };
  }

  /**
   * Unwraps the material into a new AES-256 token object labelled `target.label`, then destroys the import pair
   * (one import per parameters). Refusals leave the token as it was, except that expired pairs are destroyed.
   */
  importMaterial(lib: Lib, session: Buffer, target: ImportTarget, material: KeyMaterialImport): ImportedKey {
    const refuse = (rule: ConstructorParameters<typeof ImportRefusedError>[0], why: string, providerCode?: string) =>
      new ImportRefusedError(rule, `${why} (${target.keyRef})`, { keyRef: target.keyRef, operation: 'importKeyMaterial', providerCode });
    const { ticket, id } = decodeImportToken(material.importToken, target.keyRef);
    const pair = findPair(lib, session, ticket, id);
    if (!pair.privateKey) throw refuse('mismatch', 'the import token names no import key pair on this token (used, expired or never issued here)');
    if (this.now() >= ticket.expiresAtSeconds * 1000) {
      destroyAll(lib, session, pair.handles);
      throw refuse('expired', `the import parameters expired at ${new Date(ticket.expiresAtSeconds * 1000).toISOString()}`);
    }
    if (ticket.wrappingAlgorithm !== material.wrappingAlgorithm) {
      throw refuse('mismatch', `the import parameters are for ${ticket.wrappingAlgorithm}, not ${String(material.wrappingAlgorithm)}`);
    }
    if (!ticket.targetDigest.equals(targetDigest(target.label))) throw refuse('mismatch', 'the import parameters were issued for another key');
    this.refuseTakenLabel(lib, session, target, 'importKeyMaterial');

    const pending = `${PENDING_PREFIX}${ticket.nonce.toString('hex')}`;
    const imported = this.unwrapInto(lib, session, pair.privateKey, material.wrappingAlgorithm, material.wrappedKeyMaterial, { token: true, label: pending }, target.keyRef);
    try {
      lib.C_SetAttributeValue(session, imported.handle, [{ type: pkcs11js.CKA_LABEL, value: target.label }]);
      // Another process may have imported under the same label meanwhile: two keys with one label make the
      // reference ambiguous for good, so the later one gives way.
      if (findObjects(lib, session, [{ type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: target.label }]).length > 1) {
        throw refuse('state', `a key labelled "${target.label}" was created while this import ran`);
      }
    } catch (e) {
      destroyAll(lib, session, [imported.handle]);
      throw e;
    }
    destroyAll(lib, session, pair.handles);
    return imported;
  }

  /**
   * Can this token import `algorithm` inside its boundary? Runs the real unwrap path once on a throwaway session
   * key pair and 32 random bytes, so a token lacking the mechanism (SoftHSM2: OAEP with SHA-1 only) is found
   * before a customer wraps real material. Faults other than "cannot" propagate and are not a verdict.
   */
  async probe(lib: Lib, session: Buffer, algorithm: ImportWrappingAlgorithm): Promise<ImportCapability> {
    const { publicKey, privateKey } = await lib.C_GenerateKeyPairAsync(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_MODULUS_BITS, value: 2048 },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ...usage('public', {}),
      ],
      [{ type: pkcs11js.CKA_TOKEN, value: false }, { type: pkcs11js.CKA_PRIVATE, value: true }, { type: pkcs11js.CKA_SENSITIVE, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: false }, ...usage('private', { unwrap: true })],
    );
    const challenge = randomBytes(MATERIAL_BYTES);
    try {
      const blob = wrapForImport(publicKeyOf(lib, session, publicKey), algorithm, challenge, this.oaepHash);
      const key = this.unwrapInto(lib, session, privateKey, algorithm, blob, { token: false, label: `${PENDING_PREFIX}probe` }, 'import-probe');
      destroyAll(lib, session, [key.handle]);
      return { supported: true };
    } catch (e) {
      if (e instanceof UnsupportedOperationError || e instanceof ImportRefusedError) {
        return { supported: false, reason: e.message, providerCode: e.details.providerCode };
      }
      throw e;
    } finally {
      challenge.fill(0);
      destroyAll(lib, session, [privateKey, publicKey]);
    }
  }

  /** C_UnwrapKey into an AES object, checked to hold exactly 32 bytes; destroyed again when it does not. */
  private unwrapInto(
    lib: Lib,
    session: Buffer,
    privateKey: Buffer,
    algorithm: ImportWrappingAlgorithm,
    blob: Buffer,
    object: { token: boolean; label: string },
    keyRef: string,
  ): ImportedKey {
    const k = modulusBytes(lib, session, privateKey);
    const corrupted = (providerCode?: string) =>
      new ImportRefusedError('corrupted', `the wrapped key material does not unwrap under the import key (${algorithm}, ${keyRef})`, {
        keyRef,
        operation: 'importKeyMaterial',
        providerCode,
      });
    const kwp = algorithm === 'RSA_AES_KEY_WRAP_SHA_256';
    if (!Buffer.isBuffer(blob)) throw corrupted();
    if (kwp ? blob.length < k + 16 || (blob.length - k) % 8 !== 0 : blob.length !== k) throw corrupted();

    const unwrap = (mechanism: pkcs11js.Mechanism, key: Buffer, data: Buffer, template: pkcs11js.Template): Buffer => {
      try {
        return lib.C_UnwrapKey(session, mechanism, key, data, template);
      } catch (e) {
        if (isCkr(e, 'CKR_ARGUMENTS_BAD', 'CKR_MECHANISM_INVALID', 'CKR_MECHANISM_PARAM_INVALID')) {
          const code = ckrName(ckrOf(e)!);
          throw new UnsupportedOperationError(`this token cannot unwrap ${algorithm} inside its boundary (${code})`, { keyRef, operation: 'importKeyMaterial', providerCode: code });
        }
        // SoftHSM2 reports a failed OAEP decoding and a failed RFC 5649 integrity check as CKR_GENERAL_ERROR.
        if (isCkr(e, 'CKR_WRAPPED_KEY_INVALID', 'CKR_WRAPPED_KEY_LEN_RANGE', 'CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR')) {
          throw corrupted(ckrName(ckrOf(e)!));
        }
        throw e;
      }
    };

    let handle: Buffer;
    if (!kwp) {
      handle = unwrap(this.oaep(), privateKey, blob, aesTemplate(object));
    } else {
      const ephemeral = unwrap(this.oaep(), privateKey, blob.subarray(0, k), [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        ...usage('secret', { unwrap: true }),
      ]);
      try {
        const ephemeralBytes = valueLength(lib, session, ephemeral);
        if (ephemeralBytes !== 0 && ephemeralBytes !== MATERIAL_BYTES) throw corrupted();
        handle = unwrap({ mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, ephemeral, blob.subarray(k), aesTemplate(object));
      } finally {
        destroyAll(lib, session, [ephemeral]);
      }
    }

    try {
      const reported = valueLength(lib, session, handle);
      const kcv = checkValue(lib, session, handle);
      // SoftHSM2 2.6 records neither CKA_VALUE_LEN nor CKA_CHECK_VALUE for unwrapped keys. For key wrap with
      // padding the blob length bounds the material to 25..32 bytes and a working AES key is 16, 24 or 32 long,
      // so it is 32; a bare OAEP blob says nothing about the length, and a token that does not say either cannot
      // be trusted with it.
      const ok = reported > 0 ? reported === MATERIAL_BYTES : kwp && blob.length - k === KWP_BYTES_FOR_32 && kcv !== undefined;
      if (!ok) {
        const why = reported > 0 || kwp ? `the material is not ${MATERIAL_BYTES} bytes (AES-256)` : 'the token does not report the length of unwrapped keys, so it cannot be checked';
        throw new ImportRefusedError('key-size', `${why} (${keyRef})`, { keyRef, operation: 'importKeyMaterial' });
      }
      return { handle, sizeBits: MATERIAL_BYTES * 8, fingerprint: kcv ? `kcv:${kcv}` : 'unavailable' };
    } catch (e) {
      destroyAll(lib, session, [handle]);
      throw e;
    }
  }

  private oaep(): pkcs11js.Mechanism {
    const sha256 = this.oaepHash === 'sha256';
    return {
      mechanism: pkcs11js.CKM_RSA_PKCS_OAEP,
      parameter: {
        type: pkcs11js.CK_PARAMS_RSA_OAEP,
        hashAlg: sha256 ? pkcs11js.CKM_SHA256 : pkcs11js.CKM_SHA_1,
        mgf: sha256 ? pkcs11js.CKG_MGF1_SHA256 : pkcs11js.CKG_MGF1_SHA1,
        source: CKZ_DATA_SPECIFIED,
      } as pkcs11js.RsaOAEP,
    };
  }

  private refuseTakenLabel(lib: Lib, session: Buffer, target: ImportTarget, operation: string): void {
    const taken = findObjects(lib, session, [{ type: pkcs11js.CKA_TOKEN, value: true }, { type: pkcs11js.CKA_LABEL, value: target.label }]);
    if (taken.length > 0) {
      throw new ImportRefusedError('state', `a key labelled "${target.label}" already exists on the token; import creates new keys only (${target.keyRef})`, {
        keyRef: target.keyRef,
        operation,
      });
    }
  }
}

/**
 * The customer-side wrapping with a chosen OAEP hash: the probe's challenge, and the tests' material for SoftHSM2
 * (SHA-1). Customers use `byok/byok-wrap.ts` (SHA-256).
 */
export function wrapForImport(publicKey: KeyObject, algorithm: ImportWrappingAlgorithm, material: Buffer, oaepHash: ImportOaepHash): Buffer {
  const oaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (algorithm === 'RSAES_OAEP_SHA_256') return oaep(material);
  const ephemeral = randomBytes(MATERIAL_BYTES);
  try {
    const cipher = createCipheriv('id-aes256-wrap-pad', ephemeral, KWP_IV);
    return Buffer.concat([oaep(ephemeral), cipher.update(material), cipher.final()]);
  } finally {
    ephemeral.fill(0);
  }
}

function aesTemplate(object: { token: boolean; label: string }): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: object.token },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    // Modifiable so an HSM administrator can disable and enable it (CKA_ENCRYPT / CKA_DECRYPT).
    { type: pkcs11js.CKA_MODIFIABLE, value: true },
    { type: pkcs11js.CKA_LABEL, value: object.label },
    { type: pkcs11js.CKA_ID, value: randomBytes(16) },
    ...usage('secret', { encrypt: true, decrypt: true }),
  ];
}

/** Every usage flag the object class has, stated, so the token's defaults never grant more than asked. */
function usage(cls: 'public' | 'private' | 'secret', allowed: { encrypt?: boolean; decrypt?: boolean; unwrap?: boolean }): pkcs11js.Template {
  const flags: Array<[number, boolean]> = [[pkcs11js.CKA_DERIVE, false]];
  if (cls !== 'private') flags.push([pkcs11js.CKA_ENCRYPT, allowed.encrypt ?? false], [pkcs11js.CKA_WRAP, false], [pkcs11js.CKA_VERIFY, false]);
  if (cls !== 'public') flags.push([pkcs11js.CKA_DECRYPT, allowed.decrypt ?? false], [pkcs11js.CKA_UNWRAP, allowed.unwrap ?? false], [pkcs11js.CKA_SIGN, false]);
  return flags.map(([type, value]) => ({ type, value }));
}

function findPair(lib: Lib, session: Buffer, ticket: ImportTicket, id: Buffer): { privateKey?: Buffer; handles: Buffer[] } {
  const search = (cls: number) =>
    findObjects(lib, session, [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_LABEL, value: importPairLabel(ticket) },
      { type: pkcs11js.CKA_ID, value: id },
    ]);
  const privates = search(pkcs11js.CKO_PRIVATE_KEY);
  const publics = search(pkcs11js.CKO_PUBLIC_KEY);
  return { privateKey: privates.length === 1 ? privates[0] : undefined, handles: [...privates, ...publics] };
}

function publicKeyOf(lib: Lib, session: Buffer, handle: Buffer): KeyObject {
  const [n, e] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
  return createPublicKey({ key: { kty: 'RSA', n: n.value.toString('base64url'), e: e.value.toString('base64url') }, format: 'jwk' });
}

function modulusBytes(lib: Lib, session: Buffer, privateKey: Buffer): number {
  const [n] = lib.C_GetAttributeValue(session, privateKey, [{ type: pkcs11js.CKA_MODULUS }]);
  let i = 0;
  while (i < n.value.length - 1 && n.value[i] === 0) i++;
  return n.value.length - i;
}

function valueLength(lib: Lib, session: Buffer, handle: Buffer): number {
  return readUlong(lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE_LEN }])[0].value);
}

/**
 * The KCV as the token states it, or computed in the token (AES-ECB of one zero block, while the fresh key may
 * still encrypt) and stored as CKA_CHECK_VALUE so `describeKey` reads it later, also once the key is disabled.
 * SoftHSM2 checks a CKA_CHECK_VALUE written to it against the key. Undefined when the key cannot encrypt as AES.
 */
function checkValue(lib: Lib, session: Buffer, handle: Buffer): string | undefined {
  const [stated] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CHECK_VALUE }]);
  if (stated.value.length > 0) return stated.value.toString('hex');
  let kcv: Buffer;
  try {
    lib.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_ECB }, handle);
    kcv = Buffer.from(lib.C_Encrypt(session, Buffer.alloc(16), Buffer.alloc(16)).subarray(0, 3));
  } catch (e) {
    if (isCkr(e, 'CKR_MECHANISM_INVALID', 'CKR_KEY_SIZE_RANGE', 'CKR_KEY_TYPE_INCONSISTENT', 'CKR_GENERAL_ERROR')) return undefined;
    throw e;
  }
  try {
    lib.C_SetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CHECK_VALUE, value: kcv }]);
  } catch (e) {
    if (ckrOf(e) === undefined) throw e; // the token keeps its own view; the value computed here still stands
  }
  return kcv.toString('hex');
}

function destroyAll(lib: Lib, session: Buffer, handles: Buffer[]): void {
  for (const handle of handles) {
    try {
      lib.C_DestroyObject(session, handle);
    } catch (e) {
      if (!isCkr(e, 'CKR_OBJECT_HANDLE_INVALID', 'CKR_KEY_HANDLE_INVALID')) throw e;
    }
  }
}
