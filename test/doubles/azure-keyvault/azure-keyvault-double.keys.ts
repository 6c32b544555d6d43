import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPair,
  KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { promisify } from 'node:util';
import { unwrapImportedKeyMaterial } from '@cmk/key-providers/byok';
import { b64u, badParameter, fromB64u, keyNotFound, unixSeconds, WireError } from './azure-keyvault-double.wire';

const generateRsa = promisify(generateKeyPair);
const KWP_IV = Buffer.from('a65959a6', 'hex');

interface KeyVersion {
  name: string;
  version: string;
  kty: 'oct-HSM' | 'RSA-HSM' | 'RSA';
  sizeBits: number;
  keyOps: string[];
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  tags?: Record<string, string>;
  secret?: Buffer;
  privateKey?: KeyObject;
  publicJwk?: { n: string; e: string };
}

interface StoredKey {
  versions: Map<string, KeyVersion>;
  /** Versions in creation order; the last one is current. */
  order: string[];
  deletedDate?: number;
}

export type CryptoOperation = 'encrypt' | 'decrypt' | 'wrapkey' | 'unwrapkey';
const OPS: Record<CryptoOperation, string> = { encrypt: 'encrypt', decrypt: 'decrypt', wrapkey: 'wrapKey', unwrapkey: 'unwrapKey' };

/**
 * The key store behind the Key Vault keys API double: versions, attributes, soft delete, the crypto operations
 * and BYOK (`key_hsm`) import. Semantics follow the service where the SDK or the docs show them; where the live
 * service is known to differ from intuition it follows the service: a disabled key still encrypts and wraps
 * (only decrypt, unwrapKey and sign are refused, azure-sdk-for-python#45342), so clients must check `enabled`.
 */
export class KeyVaultDoubleKeys {
  private readonly keys = new Map<string, StoredKey>();

  constructor(private readonly baseUrl: () => string) {}

  async create(name: string, body: Record<string, unknown>): Promise<KeyVersion> {
    const kty = body.kty as string;
    const keyOps = (body.key_ops as string[] | undefined) ?? defaultOps(kty);
    let material: Pick<KeyVersion, 'sizeBits' | 'secret' | 'privateKey' | 'publicJwk'>;
    if (kty === 'oct-HSM' || kty === 'oct') {
      const size = (body.key_size as number | undefined) ?? 256;
      if (![128, 192, 256].includes(size)) throw badParameter(`The key size ${size} is not supported for ${kty} keys`);
      material = { sizeBits: size, secret: randomBytes(size / 8) };
    } else if (kty === 'RSA-HSM' || kty === 'RSA') {
      const size = (body.key_size as number | undefined) ?? 2048;
      if (![2048, 3072, 4096].includes(size)) throw badParameter(`The key size ${size} is not supported for ${kty} keys`);
      const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: size, publicExponent: 0x10001 });
      const jwk = publicKey.export({ format: 'jwk' });
      material = { sizeBits: size, privateKey, publicJwk: { n: jwk.n!, e: jwk.e! } };
    } else {
      throw badParameter(`The key type ${String(kty)} is not supported by this double`);
    }
    return this.addVersion(name, { kty: kty === 'oct' ? 'oct-HSM' : (kty as KeyVersion['kty']), keyOps, ...material }, body);
  }

  get(name: string, version?: string): KeyVersion {
    const key = this.keys.get(name);
    if (!key || key.deletedDate !== undefined) throw keyNotFound(name);
    const v = key.versions.get(version || key.order[key.order.length - 1]);
    if (!v) throw keyNotFound(`${name}/${version}`);
    return v;
  }

  versions(name: string): KeyVersion[] {
    this.get(name);
    const key = this.keys.get(name)!;
    return key.order.map((v) => key.versions.get(v)!);
  }

  update(name: string, version: string | undefined, body: Record<string, unknown>): KeyVersion {
    const v = this.get(name, version);
    const attributes = (body.attributes ?? {}) as Record<string, unknown>;
    if (typeof attributes.enabled === 'boolean') v.enabled = attributes.enabled;
    if (attributes.exp !== undefined) v.exp = (attributes.exp as number) || undefined;
    if (attributes.nbf !== undefined) v.nbf = (attributes.nbf as number) || undefined;
    if (Array.isArray(body.key_ops)) v.keyOps = body.key_ops as string[];
    if (body.tags) v.tags = body.tags as Record<string, string>;
    v.updated = unixSeconds(new Date());
    return v;
  }

  async rotate(name: string): Promise<KeyVersion> {
    const current = this.get(name);
    return this.create(name, { kty: current.kty, key_size: current.sizeBits, key_ops: current.keyOps, tags: current.tags });
  }

  delete(name: string): { version: KeyVersion; deletedDate: number } {
    const current = this.get(name);
    const key = this.keys.get(name)!;
    key.deletedDate = unixSeconds(new Date());
    return { version: current, deletedDate: key.deletedDate };
  }

  getDeleted(name: string): { version: KeyVersion; deletedDate: number } {
    const key = this.keys.get(name);
    if (!key || key.deletedDate === undefined) throw new WireError(404, 'KeyNotFound', `Deleted Key not found: ${name}`);
    return { version: key.versions.get(key.order[key.order.length - 1])!, deletedDate: key.deletedDate };
  }

  /**
   * BYOK import (PUT /keys/{name} with `key.key_hsm`): the transfer blob names the KEK in this vault, which must
   * be an enabled, unexpired RSA key with key_ops exactly ['import']; the material is unwrapped in software here
   * (what the HSM does inside its boundary) and becomes a new version of `name`.
   */
  importKey(name: string, body: Record<string, unknown>): Promise<KeyVersion> | KeyVersion {
    const existing = this.keys.get(name);
    if (existing?.deletedDate !== undefined) {
      throw new WireError(409, 'Conflict', `Key ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.`);
    }
    const jwk = (body.key ?? {}) as Record<string, unknown>;
    if (jwk.kty !== 'oct-HSM') throw badParameter('This double imports oct-HSM keys from a BYOK transfer blob (key_hsm) only');
    if (typeof jwk.key_hsm !== 'string') throw badParameter('Property key_hsm is required for an HSM key import');
    let blob: { schema_version?: unknown; header?: { kid?: unknown; alg?: unknown; enc?: unknown }; ciphertext?: unknown };
    try {
      blob = JSON.parse(fromB64u(jwk.key_hsm, 'key_hsm').toString('utf8'));
    } catch {
      throw badParameter('The key_hsm transfer blob is not valid JSON');
    }
    const header = blob.header ?? {};
    if (blob.schema_version !== '1.0.0' || header.alg !== 'dir' || typeof header.kid !== 'string') {
      throw badParameter('The key_hsm transfer blob must have schema_version 1.0.0 and a header with kid and alg "dir"');
    }
    const kek = this.kekFor(header.kid);
    const wrapped = fromB64u(blob.ciphertext, 'key_hsm.ciphertext');
    let material: Buffer;
    if (header.enc === 'RSA_AES_KEY_WRAP_256') {
      try {
        material = unwrapImportedKeyMaterial({ privateKey: kek.privateKey!, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: wrapped });
      } catch {
        throw badParameter('The key_hsm transfer blob could not be unwrapped with the key exchange key');
      }
    } else if (header.enc === 'CKM_RSA_AES_KEY_WRAP') {
      material = unwrapRsaAesSha1(kek.privateKey!, wrapped);
    } else {
      throw badParameter(`The key_hsm encryption ${String(header.enc)} is not supported`);
    }
    if (![16, 24, 32].includes(material.length)) throw badParameter('The imported oct-HSM key must be 128, 192 or 256 bits');
    const keyOps = (jwk.key_ops as string[] | undefined) ?? defaultOps('oct-HSM');
    return this.addVersion(name, { kty: 'oct-HSM', keyOps, sizeBits: material.length * 8, secret: material }, body);
  }

  crypto(name: string, version: string, operation: CryptoOperation, body: Record<string, unknown>): { kid: string; value: Buffer; iv?: Buffer; tag?: Buffer } {
    const v = this.get(name, version);
    const kid = this.kid(v);
    if ((operation === 'decrypt' || operation === 'unwrapkey') && !v.enabled) {
      throw new WireError(403, 'Forbidden', `Operation ${OPS[operation]} is not allowed on a disabled key.`, 'KeyDisabled');
    }
    const now = unixSeconds(new Date());
    if ((v.exp !== undefined && now > v.exp) || (v.nbf !== undefined && now < v.nbf)) {
      throw new WireError(403, 'Forbidden', `Operation ${OPS[operation]} is not allowed on a key outside its validity period.`, 'KeyExpired');
    }
    if (!v.keyOps.includes(OPS[operation])) throw badParameter(`Operation ${OPS[operation]} is not permitted for this key`);
    const alg = body.alg as string;
    const value = fromB64u(body.value, 'value');
    if (v.secret) return { kid, ...aesOperation(v, operation, alg, value, body) };
    if (alg !== 'RSA-OAEP-256' && alg !== 'RSA-OAEP') throw badParameter(`Algorithm ${String(alg)} is not supported for ${v.kty} keys`);
    const oaepHash = alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1';
    const padding = constants.RSA_PKCS1_OAEP_PADDING;
    if (operation === 'encrypt' || operation === 'wrapkey') {
      return { kid, value: publicEncrypt({ key: v.privateKey!, padding, oaepHash }, value) };
    }
    try {
      return { kid, value: privateDecrypt({ key: v.privateKey!, padding, oaepHash }, value) };
    } catch {
      throw badParameter('The ciphertext could not be decrypted with this key');
    }
  }

  kid(v: KeyVersion): string {
    return `${this.baseUrl()}/keys/${v.name}/${v.version}`;
  }

  bundle(v: KeyVersion): Record<string, unknown> {
    return {
      key: { kid: this.kid(v), kty: v.kty, key_ops: v.keyOps, ...(v.publicJwk ?? {}) },
      attributes: {
        enabled: v.enabled,
        created: v.created,
        updated: v.updated,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        ...(v.exp ? { exp: v.exp } : {}),
        ...(v.nbf ? { nbf: v.nbf } : {}),
      },
      ...(v.tags ? { tags: v.tags } : {}),
    };
  }

  private kekFor(kid: string): KeyVersion {
    const prefix = `${this.baseUrl()}/keys/`;
    const [name, version] = kid.startsWith(prefix) ? kid.slice(prefix.length).split('/') : [];
    if (!name || !version) throw badParameter('The key exchange key must be a versioned key in this vault');
    let kek: KeyVersion;
    try {
      kek = this.get(name, version);
    } catch {
      throw badParameter('The key exchange key named in key_hsm was not found in this vault');
    }
    if (!kek.privateKey || kek.keyOps.length !== 1 || kek.keyOps[0] !== 'import') {
      throw badParameter('The key exchange key must be an RSA key with key_ops [import] only');
    }
    if (!kek.enabled) throw new WireError(403, 'Forbidden', 'Operation import is not allowed on a disabled key.', 'KeyDisabled');
    if (kek.exp !== undefined && unixSeconds(new Date()) > kek.exp) throw badParameter('The key exchange key has expired');
    return kek;
  }

  private addVersion(
    name: string,
    fields: Pick<KeyVersion, 'kty' | 'keyOps' | 'sizeBits' | 'secret' | 'privateKey' | 'publicJwk'>,
    body: Record<string, unknown>,
  ): KeyVersion {
    if (!/^[0-9a-zA-Z-]{1,127}$/.test(name)) throw badParameter('The key name must be 1-127 characters of 0-9, a-z, A-Z and -');
    const attributes = (body.attributes ?? {}) as Record<string, unknown>;
    const now = unixSeconds(new Date());
    const v: KeyVersion = {
      name,
      version: randomBytes(16).toString('hex'),
      enabled: attributes.enabled !== false,
      exp: (attributes.exp as number | undefined) || undefined,
      nbf: (attributes.nbf as number | undefined) || undefined,
      created: now,
      updated: now,
      tags: body.tags as Record<string, string> | undefined,
      ...fields,
    };
    let key = this.keys.get(name);
    if (key?.deletedDate !== undefined) {
      throw new WireError(409, 'Conflict', `Key ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.`);
    }
    if (!key) this.keys.set(name, (key = { versions: new Map(), order: [] }));
    key.versions.set(v.version, v);
    key.order.push(v.version);
    return v;
  }
}

function defaultOps(kty: string): string[] {
  return kty.startsWith('oct') ? ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] : ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify'];
}

function aesOperation(
  v: KeyVersion,
  operation: CryptoOperation,
  alg: string,
  value: Buffer,
  body: Record<string, unknown>,
): { value: Buffer; iv?: Buffer; tag?: Buffer } {
  const bits = v.sizeBits;
  if (alg === `A${bits}GCM` && (operation === 'encrypt' || operation === 'decrypt')) {
    const aad = body.aad === undefined || body.aad === null ? undefined : fromB64u(body.aad, 'aad');
    if (operation === 'encrypt') {
      const iv = randomBytes(12);
      const cipher = createCipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', v.secret!, iv);
      if (aad) cipher.setAAD(aad);
      const ct = Buffer.concat([cipher.update(value), cipher.final()]);
      return { value: ct, iv, tag: cipher.getAuthTag() };
    }
    const iv = fromB64u(body.iv, 'iv');
    const tag = fromB64u(body.tag, 'tag');
    if (iv.length !== 12 || tag.length !== 16) throw badParameter('Property iv or tag has an invalid length');
    try {
      const decipher = createDecipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', v.secret!, iv);
      if (aad) decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      return { value: Buffer.concat([decipher.update(value), decipher.final()]) };
    } catch {
      throw badParameter('The ciphertext could not be decrypted with this key');
    }
  }
  if (alg === `A${bits}KW` && (operation === 'wrapkey' || operation === 'unwrapkey')) {
    try {
      const f = operation === 'wrapkey' ? createCipheriv : createDecipheriv;
      const c = f(`id-aes${bits}-wrap`, v.secret!, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
      return { value: Buffer.concat([c.update(value), c.final()]) };
    } catch {
      throw badParameter('The key could not be wrapped or unwrapped with this key');
    }
  }
  throw badParameter(`Algorithm ${String(alg)} is not supported for ${operation} with a ${bits}-bit ${v.kty} key`);
}

/** CKM_RSA_AES_KEY_WRAP as the BYOK specification defines it for Key Vault: RSA-OAEP with SHA-1, then AES-KWP. */
function unwrapRsaAesSha1(privateKey: KeyObject, wrapped: Buffer): Buffer {
  const modulusBytes = privateKey.asymmetricKeyDetails!.modulusLength! / 8;
  try {
    const ephemeral = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped.subarray(0, modulusBytes));
    const decipher = createDecipheriv(`id-aes${ephemeral.length * 8}-wrap-pad`, ephemeral, KWP_IV);
    return Buffer.concat([decipher.update(wrapped.subarray(modulusBytes)), decipher.final()]);
  } catch {
    throw badParameter('The key_hsm transfer blob could not be unwrapped with the key exchange key');
  }
}

export { b64u };
export type { KeyVersion };
