import { createCipheriv, createDecipheriv, generateKeyPair, KeyObject, randomBytes } from 'node:crypto';
import type { ImportWrappingAlgorithm } from '@cmk/key-providers';
import { unwrapImportedKeyMaterial } from '@cmk/key-providers/byok';
import { alreadyExists, invalid, notFound, precondition, unimplemented } from './gcp-kms-double.errors';

export type VersionState = 'PENDING_GENERATION' | 'ENABLED' | 'DISABLED' | 'DESTROYED' | 'DESTROY_SCHEDULED' | 'PENDING_IMPORT' | 'IMPORT_FAILED';
export type ProtectionLevel = 'SOFTWARE' | 'HSM';

export interface DoubleVersion {
  name: string;
  id: number;
  state: VersionState;
  protectionLevel: ProtectionLevel;
  /** Opaque handle written into ciphertexts, so Decrypt on the CryptoKey finds the version. */
  handle: Buffer;
  material?: Buffer;
  createTime: Date;
  importJob?: string;
  importFailureReason?: string;
}

export interface DoubleKey {
  name: string;
  purpose: 'ENCRYPT_DECRYPT';
  importOnly: boolean;
  protectionLevel: ProtectionLevel;
  createTime: Date;
  primaryId?: number;
  versions: DoubleVersion[];
}

export interface DoubleImportJob {
  name: string;
  importMethod: string;
  protectionLevel: ProtectionLevel;
  state: 'PENDING_GENERATION' | 'ACTIVE' | 'EXPIRED';
  createTime: Date;
  expireTime: Date;
  privateKey?: KeyObject;
  publicKeyPem?: string;
}

export interface StoreTiming {
  /** How long an HSM version stays PENDING_GENERATION. */
  hsmGenerationMs: number;
  /** How long an imported version stays PENDING_IMPORT before it is ENABLED or IMPORT_FAILED. */
  importMs: number;
  /** Import job lifetime (Cloud KMS: 3 days). */
  importJobLifetimeMs: number;
}

const METHODS: Record<string, { bits: number; wrapping: ImportWrappingAlgorithm }> = {
  RSA_OAEP_3072_SHA256: { bits: 3072, wrapping: 'RSAES_OAEP_SHA_256' },
  RSA_OAEP_4096_SHA256: { bits: 4096, wrapping: 'RSAES_OAEP_SHA_256' },
  RSA_OAEP_3072_SHA256_AES_256: { bits: 3072, wrapping: 'RSA_AES_KEY_WRAP_SHA_256' },
  RSA_OAEP_4096_SHA256_AES_256: { bits: 4096, wrapping: 'RSA_AES_KEY_WRAP_SHA_256' },
};
const ID = /^[a-zA-Z0-9_-]{1,63}$/;
const LOCATION_NAME = /^projects\/[^/]+\/locations\/[^/]+$/;
const CIPHERTEXT_CONTEXT = Buffer.from('gcp-kms-double:v1');
const HANDLE_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const INVALID_CIPHERTEXT = 'Decryption failed: the ciphertext is invalid.';

/**
 * The double's resources (key rings, crypto keys, versions, import jobs) and its cryptography: AES-256-GCM in
 * software per version; a ciphertext is `handle(16) || iv(12) || ciphertext || tag(16)` with the handle and the
 * caller's AAD both authenticated, so a changed byte anywhere, another key or another AAD fails as one error.
 */
export class DoubleStore {
  readonly keyRings = new Map<string, { name: string; createTime: Date }>();
  readonly keys = new Map<string, DoubleKey>();
  readonly importJobs = new Map<string, DoubleImportJob>();
  private readonly byHandle = new Map<string, { key: DoubleKey; version: DoubleVersion }>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly timing: StoreTiming) {}

  createKeyRing(parent: string, id: string) {
    if (!LOCATION_NAME.test(parent)) throw invalid(`Invalid parent: ${parent}`);
    if (!ID.test(id)) throw invalid('key_ring_id must match [a-zA-Z0-9_-]{1,63}.');
    const name = `${parent}/keyRings/${id}`;
    if (this.keyRings.has(name)) throw alreadyExists('KeyRing', name);
    const ring = { name, createTime: new Date() };
    this.keyRings.set(name, ring);
    return ring;
  }

  keyRing(name: string) {
    const ring = this.keyRings.get(name);
    if (!ring) throw notFound('KeyRing', name);
    return ring;
  }

  createCryptoKey(parent: string, id: string, spec: { purpose: string; importOnly: boolean; algorithm: string; protectionLevel: string; skipInitialVersion: boolean }): DoubleKey {
    this.keyRing(parent);
    if (!ID.test(id)) throw invalid('crypto_key_id must match [a-zA-Z0-9_-]{1,63}.');
    if (spec.purpose !== 'ENCRYPT_DECRYPT' || !['GOOGLE_SYMMETRIC_ENCRYPTION', 'CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED'].includes(spec.algorithm)) {
      throw unimplemented('only ENCRYPT_DECRYPT keys with GOOGLE_SYMMETRIC_ENCRYPTION');
    }
    const protectionLevel = protection(spec.protectionLevel);
    if (spec.importOnly && !spec.skipInitialVersion) throw invalid('Import-only keys must be created with skip_initial_version_creation.');
    const name = `${parent}/cryptoKeys/${id}`;
    if (this.keys.has(name)) throw alreadyExists('CryptoKey', name);
    const key: DoubleKey = { name, purpose: 'ENCRYPT_DECRYPT', importOnly: spec.importOnly, protectionLevel, createTime: new Date(), versions: [] };
    this.keys.set(name, key);
    if (!spec.skipInitialVersion) key.primaryId = this.generateVersion(key).id;
    return key;
  }

  key(name: string): DoubleKey {
    const key = this.keys.get(name);
    if (!key) throw notFound('CryptoKey', name);
    return key;
  }

  version(name: string): { key: DoubleKey; version: DoubleVersion } {
    const m = /^(.+)\/cryptoKeyVersions\/(\d+)$/.exec(name);
    const key = m ? this.keys.get(m[1]) : undefined;
    const version = key?.versions.find((v) => v.id === Number(m![2]));
    if (!key || !version) throw notFound('CryptoKeyVersion', name);
    return { key, version };
  }

  primary(key: DoubleKey): DoubleVersion | undefined {
    return key.versions.find((v) => v.id === key.primaryId);
  }

  /** A new version with fresh material: ENABLED at once in software, after `hsmGenerationMs` for HSM keys. */
  generateVersion(key: DoubleKey): DoubleVersion {
    if (key.importOnly) throw precondition(`CryptoKey ${key.name} is import-only; versions can only be imported.`);
    const version = this.newVersion(key, key.protectionLevel === 'HSM' ? 'PENDING_GENERATION' : 'ENABLED');
    version.material = randomBytes(32);
    if (version.state === 'PENDING_GENERATION') this.later(this.timing.hsmGenerationMs, () => (version.state = 'ENABLED'));
    return version;
  }

  setPrimary(key: DoubleKey, versionId: string): DoubleKey {
    const version = key.versions.find((v) => String(v.id) === versionId);
    if (!version) throw notFound('CryptoKeyVersion', `${key.name}/cryptoKeyVersions/${versionId}`);
    if (version.state !== 'ENABLED') throw precondition(`${version.name} is not enabled, current state is: ${version.state}.`);
    key.primaryId = version.id;
    return key;
  }

  setVersionState(name: string, state: string): DoubleVersion {
    const { version } = this.version(name);
    if (state !== 'ENABLED' && state !== 'DISABLED') throw invalid(`The state can only be updated to ENABLED or DISABLED, not ${state}.`);
    if (version.state !== 'ENABLED' && version.state !== 'DISABLED') throw precondition(`${version.name} is ${version.state}; only ENABLED and DISABLED versions change state.`);
    version.state = state;
    return version;
  }

  encrypt(key: DoubleKey, plaintext: Buffer, aad: Buffer): { version: DoubleVersion; ciphertext: Buffer } {
    const version = this.primary(key);
    if (!version) throw precondition(`CryptoKey ${key.name} has no primary version.`);
    if (version.state !== 'ENABLED') throw precondition(`${version.name} is not enabled, current state is: ${version.state}.`);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', version.material!, iv);
    cipher.setAAD(gcmAad(version.handle, aad));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { version, ciphertext: Buffer.concat([version.handle, iv, body, cipher.getAuthTag()]) };
  }

  decrypt(key: DoubleKey, ciphertext: Buffer, aad: Buffer): { version: DoubleVersion; plaintext: Buffer } {
    if (ciphertext.length < HANDLE_BYTES + IV_BYTES + TAG_BYTES + 1) throw invalid(INVALID_CIPHERTEXT);
    const handle = ciphertext.subarray(0, HANDLE_BYTES);
    const found = this.byHandle.get(handle.toString('hex'));
    if (!found || found.key !== key) throw invalid(INVALID_CIPHERTEXT);
    const { version } = found;
    if (version.state !== 'ENABLED') throw precondition(`${version.name} is not enabled, current state is: ${version.state}.`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', version.material!, ciphertext.subarray(HANDLE_BYTES, HANDLE_BYTES + IV_BYTES));
      decipher.setAAD(gcmAad(handle, aad));
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
      const plaintext = Buffer.concat([decipher.update(ciphertext.subarray(HANDLE_BYTES + IV_BYTES, ciphertext.length - TAG_BYTES)), decipher.final()]);
      return { version, plaintext };
    } catch {
      throw invalid(INVALID_CIPHERTEXT);
    }
  }

  /** PENDING_GENERATION until the RSA wrapping key exists (generated asynchronously, as Cloud KMS does). */
  createImportJob(parent: string, id: string, importMethod: string, protectionLevel: string): DoubleImportJob {
    this.keyRing(parent);
    if (!ID.test(id)) throw invalid('import_job_id must match [a-zA-Z0-9_-]{1,63}.');
    const method = METHODS[importMethod];
    if (!method) throw unimplemented(`import method ${importMethod}`);
    const name = `${parent}/importJobs/${id}`;
    if (this.importJobs.has(name)) throw alreadyExists('ImportJob', name);
    const now = new Date();
    const job: DoubleImportJob = {
      name,
      importMethod,
      protectionLevel: protection(protectionLevel),
      state: 'PENDING_GENERATION',
      createTime: now,
      expireTime: new Date(now.getTime() + this.timing.importJobLifetimeMs),
    };
    this.importJobs.set(name, job);
    generateKeyPair('rsa', { modulusLength: method.bits }, (error, publicKey, privateKey) => {
      if (error) return;
      job.privateKey = privateKey;
      job.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      if (job.state === 'PENDING_GENERATION') job.state = 'ACTIVE';
    });
    return job;
  }

  importJob(name: string): DoubleImportJob {
    const job = this.importJobs.get(name);
    if (!job) throw notFound('ImportJob', name);
    if (job.state === 'ACTIVE' && job.expireTime.getTime() <= Date.now()) job.state = 'EXPIRED';
    return job;
  }

  /** Test control: the job is past its expiry from now on. */
  expireImportJob(name: string): void {
    const job = this.importJob(name);
    job.expireTime = new Date(Date.now() - 1);
    job.state = 'EXPIRED';
  }

  /**
   * Synchronous checks answer with a status; the unwrap itself happens after `importMs`, ending in ENABLED or
   * IMPORT_FAILED with a reason, as Cloud KMS reports import failures on the version.
   */
  importVersion(key: DoubleKey, jobName: string, algorithm: string, wrapped: Buffer): DoubleVersion {
    const job = this.importJob(jobName);
    if (!key.name.startsWith(`${jobName.replace(/\/importJobs\/[^/]+$/, '')}/`)) throw invalid('The ImportJob must be in the same key ring as the CryptoKey.');
    if (algorithm !== 'GOOGLE_SYMMETRIC_ENCRYPTION') throw invalid(`Algorithm ${algorithm} is not valid for a CryptoKey with purpose ENCRYPT_DECRYPT.`);
    if (job.state === 'EXPIRED') throw precondition(`ImportJob ${job.name} has expired.`);
    if (job.state !== 'ACTIVE') throw precondition(`ImportJob ${job.name} is not active, current state is: ${job.state}.`);
    if (job.protectionLevel !== key.protectionLevel) throw precondition(`The protection level of ImportJob ${job.name} does not match the CryptoKey's.`);
    if (wrapped.length === 0) throw invalid('wrapped_key is required.');
    const version = this.newVersion(key, 'PENDING_IMPORT');
    version.importJob = job.name;
    const privateKey = job.privateKey!;
    const wrapping = METHODS[job.importMethod].wrapping;
    this.later(this.timing.importMs, () => {
      let material: Buffer;
      try {
        material = unwrapImportedKeyMaterial({ privateKey, wrappingAlgorithm: wrapping, wrappedKeyMaterial: wrapped });
      } catch {
        version.state = 'IMPORT_FAILED';
        version.importFailureReason = "The wrapped key could not be unwrapped with the import job's private key.";
        return;
      }
      if (material.length !== 32) {
        version.state = 'IMPORT_FAILED';
        version.importFailureReason = `The key material has an invalid length of ${material.length} bytes; GOOGLE_SYMMETRIC_ENCRYPTION needs 32 bytes.`;
        return;
      }
      version.material = material;
      version.state = 'ENABLED';
    });
    return version;
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private newVersion(key: DoubleKey, state: VersionState): DoubleVersion {
    const id = key.versions.length + 1;
    const version: DoubleVersion = { name: `${key.name}/cryptoKeyVersions/${id}`, id, state, protectionLevel: key.protectionLevel, handle: randomBytes(HANDLE_BYTES), createTime: new Date() };
    key.versions.push(version);
    this.byHandle.set(version.handle.toString('hex'), { key, version });
    return version;
  }

  private later(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, ms);
    this.timers.add(t);
  }
}

function protection(level: string): ProtectionLevel {
  if (level === 'SOFTWARE' || level === 'PROTECTION_LEVEL_UNSPECIFIED' || !level) return 'SOFTWARE';
  if (level === 'HSM') return 'HSM';
  throw unimplemented(`protection level ${level}`);
}

function gcmAad(handle: Buffer, aad: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(aad.length);
  return Buffer.concat([CIPHERTEXT_CONTEXT, handle, length, aad]);
}
