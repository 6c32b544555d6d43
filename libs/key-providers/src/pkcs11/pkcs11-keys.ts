import { createHash, createPublicKey } from 'node:crypto';
import { endianness } from 'node:os';
import * as pkcs11js from 'pkcs11js';
import type { KeyAlgorithm, KeyState } from '../key-provider.port';
import { InvalidKeyReferenceError, KeyNotFoundError } from '../key-provider.errors';
import { isCkr } from './pkcs11-errors';
import type { Pkcs11KeyRef } from './pkcs11-uri';

type Lib = pkcs11js.PKCS11;

/** A key found on the token: object handles of one module generation, never key material. */
export interface Pkcs11Key {
  kind: 'aes' | 'rsa' | 'other';
  algorithm: KeyAlgorithm;
  sizeBits: number;
  secret?: Buffer;
  privateKey?: Buffer;
  publicKey?: Buffer;
  /** RSA modulus length in bytes (k in RFC 8017). */
  modulusBytes?: number;
  generation: number;
}

const KEY_CLASSES = new Set<number>([pkcs11js.CKO_SECRET_KEY, pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY]);
const TYPE_CLASS: Record<string, number> = {
  'secret-key': pkcs11js.CKO_SECRET_KEY,
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
};
const CKK_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(pkcs11js as unknown as Record<string, unknown>)) {
  if (name.startsWith('CKK_') && typeof value === 'number' && !CKK_NAMES.has(value)) CKK_NAMES.set(value, name.slice(4));
}

/**
 * Finds the key a reference names on the token: one secret key, or one private key with at most one public key
 * sharing its label/id (an RSA pair). More than that is an ambiguous reference and refused, because using the
 * wrong key to wrap loses data.
 */
export function findKey(lib: Lib, session: Buffer, ref: Pkcs11KeyRef, refText: string, generation: number): Pkcs11Key {
  const template: pkcs11js.Template = [{ type: pkcs11js.CKA_TOKEN, value: true }];
  if (ref.object !== undefined) template.push({ type: pkcs11js.CKA_LABEL, value: ref.object });
  if (ref.id !== undefined) template.push({ type: pkcs11js.CKA_ID, value: ref.id });
  if (ref.type !== undefined) template.push({ type: pkcs11js.CKA_CLASS, value: TYPE_CLASS[ref.type] });
  const byClass = new Map<number, { handle: Buffer; keyType: number }[]>();
  for (const handle of findObjects(lib, session, template)) {
    const cls = readUlong(lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CLASS }])[0].value);
    if (!KEY_CLASSES.has(cls)) continue; // certificates and data objects may share a key's label
    const keyType = readUlong(lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }])[0].value);
    byClass.set(cls, [...(byClass.get(cls) ?? []), { handle, keyType }]);
  }
  const secrets = byClass.get(pkcs11js.CKO_SECRET_KEY) ?? [];
  const privates = byClass.get(pkcs11js.CKO_PRIVATE_KEY) ?? [];
  const publics = byClass.get(pkcs11js.CKO_PUBLIC_KEY) ?? [];
  const total = secrets.length + privates.length + publics.length;
  if (total === 0) throw new KeyNotFoundError(`no key ${refText} on the token`, { keyRef: refText, operation: 'find-key' });
  if (secrets.length > 1 || privates.length > 1 || publics.length > 1 || (secrets.length === 1 && total > 1)) {
    throw new InvalidKeyReferenceError(`${refText} matches ${total} keys; name one with id= or type=`, {
      keyRef: refText,
      operation: 'find-key',
    });
  }
  if (secrets.length === 1) {
    const { handle, keyType } = secrets[0];
    const [len] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE_LEN }]);
    const sizeBits = readUlong(len.value) * 8;
    return keyType === pkcs11js.CKK_AES
      ? { kind: 'aes', algorithm: 'AES', sizeBits, secret: handle, generation }
      : { kind: 'other', algorithm: keyTypeName(keyType), sizeBits, secret: handle, generation };
  }
  const priv = privates[0];
  const pub = publics[0];
  const keyType = (priv ?? pub).keyType;
  if (keyType !== pkcs11js.CKK_RSA) {
    return { kind: 'other', algorithm: keyTypeName(keyType), sizeBits: 0, privateKey: priv?.handle, publicKey: pub?.handle, generation };
  }
  const [modulus] = lib.C_GetAttributeValue(session, (pub ?? priv).handle, [{ type: pkcs11js.CKA_MODULUS }]);
  const modulusBytes = stripLeadingZeros(modulus.value).length;
  return {
    kind: 'rsa',
    algorithm: 'RSA',
    sizeBits: bitLength(modulus.value),
    privateKey: priv?.handle,
    publicKey: pub?.handle,
    modulusBytes,
    generation,
  };
}

export interface Pkcs11KeyFacts {
  state: KeyState;
  fingerprint: string;
}

/**
 * State and fingerprint, read fresh from the token on every call (usage flags change at the HSM). A key is
 * `enabled` when it may both encrypt and decrypt: CKA_ENCRYPT and CKA_DECRYPT on a secret key, CKA_ENCRYPT on
 * the public and CKA_DECRYPT on the private half of a pair.
 */
export function readKeyFacts(lib: Lib, session: Buffer, key: Pkcs11Key): Pkcs11KeyFacts {
  const flag = (handle: Buffer | undefined, attr: number): boolean | undefined =>
    handle ? readBool(lib.C_GetAttributeValue(session, handle, [{ type: attr }])[0].value) : undefined;
  if (key.kind === 'aes' || (key.kind === 'other' && key.secret)) {
    const usable = flag(key.secret, pkcs11js.CKA_ENCRYPT) && flag(key.secret, pkcs11js.CKA_DECRYPT);
    return { state: usable ? 'enabled' : 'disabled', fingerprint: checkValue(lib, session, key.secret!) };
  }
  if (key.kind === 'rsa') {
    const canEncrypt = key.publicKey ? flag(key.publicKey, pkcs11js.CKA_ENCRYPT) : false;
    const canDecrypt = key.privateKey ? flag(key.privateKey, pkcs11js.CKA_DECRYPT) : false;
    return {
      state: canEncrypt && canDecrypt ? 'enabled' : 'disabled',
      fingerprint: rsaFingerprint(lib, session, (key.publicKey ?? key.privateKey)!),
    };
  }
  return { state: 'unknown', fingerprint: 'unavailable' };
}

/** `kcv:` + CKA_CHECK_VALUE (for AES: the first 3 bytes of AES-ECB(key, 0^128)), the HSM-computed KCV. */
function checkValue(lib: Lib, session: Buffer, handle: Buffer): string {
  try {
    const [kcv] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CHECK_VALUE }]);
    if (kcv.value.length > 0) return `kcv:${kcv.value.toString('hex')}`;
  } catch (e) {
    if (!isCkr(e, 'CKR_ATTRIBUTE_TYPE_INVALID', 'CKR_ATTRIBUTE_SENSITIVE')) throw e;
  }
  return 'unavailable';
}

/** `sha256:` of the DER SubjectPublicKeyInfo, as `openssl pkey -pubout -outform DER | sha256sum` prints it. */
function rsaFingerprint(lib: Lib, session: Buffer, handle: Buffer): string {
  const [n, e] = lib.C_GetAttributeValue(session, handle, [
    { type: pkcs11js.CKA_MODULUS },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT },
  ]).map((a) => stripLeadingZeros(a.value));
  const spki = createPublicKey({
    key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
    format: 'jwk',
  }).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

export function findObjects(lib: Lib, session: Buffer, template: pkcs11js.Template): Buffer[] {
  lib.C_FindObjectsInit(session, template);
  try {
    const found: Buffer[] = [];
    for (;;) {
      const batch = lib.C_FindObjects(session, 16);
      found.push(...batch);
      if (batch.length < 16 || found.length >= 64) return found;
    }
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

/** CK_ULONG as pkcs11js returns it: the platform's unsigned long, in native byte order. */
export function readUlong(value: Buffer): number {
  const le = endianness() === 'LE';
  if (value.length === 8) return Number(le ? value.readBigUInt64LE(0) : value.readBigUInt64BE(0));
  if (value.length === 4) return le ? value.readUInt32LE(0) : value.readUInt32BE(0);
  throw new RangeError(`unexpected CK_ULONG of ${value.length} bytes`);
}

function readBool(value: Buffer): boolean {
  return value.length > 0 && value[0] !== 0;
}

function keyTypeName(keyType: number): string {
  return CKK_NAMES.get(keyType) ?? `CKK_0x${keyType.toString(16)}`;
}

function stripLeadingZeros(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function bitLength(b: Buffer): number {
  const s = stripLeadingZeros(b);
  return (s.length - 1) * 8 + (32 - Math.clz32(s[0]));
}
