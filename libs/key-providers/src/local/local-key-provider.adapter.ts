import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  InvalidCiphertextError,
  InvalidKeyReferenceError,
  KeyNotFoundError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { KeyDescription, KeyProvider, KeyRef, ProviderHealth, WrapResult } from '../key-provider.port';
import { proveByRoundTrip } from '../proof-of-possession';

const REF = /^local:key=([a-z0-9][a-z0-9-]{0,63})$/;
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A SOFTWARE root of trust for the embedded demo and development only: AES-256 keys in files (mode 0600) under a
 * data directory, used with AES-256-GCM. It gives a newcomer the whole loop (link, unwrap, revoke, denied) on a
 * machine without an HSM. It is not a sovereign root of trust (the key sits next to the service), so the control
 * plane accepts `local` links only in embedded mode. References: `local:key=<name>`.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly kind = 'local';
  private readonly keys = new Map<string, Buffer>();
  private closed = false;

  constructor(private readonly options: { dir: string }) {}

  /** Creates the key if it does not exist yet (idempotent) and returns its reference. */
  async createKey(name: string): Promise<KeyRef> {
    const ref = `local:key=${name}`;
    if (!REF.test(ref)) throw new InvalidKeyReferenceError(`local key names are 1-64 characters of a-z, 0-9 and -`, { keyRef: ref });
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    try {
      const handle = await open(this.file(name), 'wx', 0o600);
      await handle.writeFile(randomBytes(32));
      await handle.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    await chmod(this.file(name), 0o600);
    return ref;
  }

  async describeKey(ref: KeyRef): Promise<KeyDescription> {
    const key = await this.key(ref);
    const kcv = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(Buffer.alloc(16)).subarray(0, 3).toString('hex');
    return { ref, algorithm: 'AES', sizeBits: 256, state: 'enabled', location: 'local', fingerprint: `kcv:${kcv}` };
  }

  async wrap(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<WrapResult> {
    const key = await this.key(ref);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    if (aad) cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext: Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]), algorithm: 'AES_256_GCM' };
  }

  async unwrap(ref: KeyRef, ciphertext: Buffer, aad?: Buffer): Promise<Buffer> {
    const key = await this.key(ref);
    if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== VERSION) throw new InvalidCiphertextError('not a ciphertext of this provider', { keyRef: ref });
    const iv = ciphertext.subarray(1, 1 + IV_BYTES);
    const tag = ciphertext.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    if (aad) decipher.setAAD(aad);
    try {
      return Buffer.concat([decipher.update(ciphertext.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new InvalidCiphertextError('ciphertext does not authenticate under this key and aad', { keyRef: ref });
    }
  }

  /** A demo key in a file is no place to import a customer's key material into. */
  async getImportParameters(ref: KeyRef): Promise<never> {
    await this.key(ref);
    throw new UnsupportedOperationError('the local demo provider does not import key material (BYOK needs an HSM or a cloud KMS)', { keyRef: ref, operation: 'getImportParameters' });
  }

  async importKeyMaterial(ref: KeyRef): Promise<never> {
    await this.key(ref);
    throw new UnsupportedOperationError('the local demo provider does not import key material (BYOK needs an HSM or a cloud KMS)', { keyRef: ref, operation: 'importKeyMaterial' });
  }

  async rotateKey(ref: KeyRef): Promise<never> {
    await this.key(ref);
    throw new UnsupportedOperationError('the local demo provider keeps one version per key', { keyRef: ref, operation: 'rotateKey' });
  }

  proofOfPossession(ref: KeyRef) {
    return proveByRoundTrip(this, ref);
  }

  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    if (this.closed) return { healthy: false, latencyMs: 0, reason: 'provider closed' };
    try {
      await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
      return { healthy: true, latencyMs: performance.now() - started };
    } catch (error) {
      return { healthy: false, latencyMs: performance.now() - started, reason: `key directory not usable (${(error as NodeJS.ErrnoException).code})` };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const key of this.keys.values()) key.fill(0);
    this.keys.clear();
  }

  private file(name: string): string {
    return join(this.options.dir, `${name}.key`);
  }

  private async key(ref: KeyRef): Promise<Buffer> {
    if (this.closed) throw new ProviderUnavailableError('local key provider is closed', { keyRef: ref });
    const match = REF.exec(typeof ref === 'string' ? ref : '');
    if (!match) throw new InvalidKeyReferenceError('a local key reference looks like local:key=<name>', { keyRef: String(ref).slice(0, 100) });
    const cached = this.keys.get(match[1]);
    if (cached) return cached;
    let key: Buffer;
    try {
      key = await readFile(this.file(match[1]));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyNotFoundError(`no local key named ${match[1]}`, { keyRef: ref });
      throw new ProviderUnavailableError(`cannot read local key ${match[1]} (${(error as NodeJS.ErrnoException).code})`, { keyRef: ref });
    }
    if (key.length !== 32) throw new ProviderUnavailableError(`local key ${match[1]} is not a 256-bit key`, { keyRef: ref });
    this.keys.set(match[1], key);
    return key;
  }
}
