import { createPublicKey, KeyObject, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { needsSessionRecovery } from '../pkcs11-errors';
import { readUlong } from '../pkcs11-keys';
import { Pkcs11Module } from '../pkcs11-module';
import { formatPkcs11KeyRef } from '../pkcs11-uri';

export interface Pkcs11TestTokenOptions {
  modulePath: string;
  tokenLabel: string;
  /** The user PIN itself: this helper is for tests against throwaway tokens only. */
  pin: string;
}

export interface CreatedTestKey {
  label: string;
  id: Buffer;
  /** `pkcs11:token=<token>;object=<label>` */
  ref: string;
  /** `pkcs11:token=<token>;id=%..` */
  refById: string;
}

export interface AesKeyOptions {
  label: string;
  id?: Buffer;
  bits?: 128 | 192 | 256;
  /** Test-only escape hatch so a test can check ciphertexts with another implementation. Default false. */
  extractable?: boolean;
}

export interface RsaKeyPairOptions {
  label: string;
  id?: Buffer;
  bits?: 2048 | 3072 | 4096;
}

/**
 * Creates and changes keys in a test token, as a customer's HSM administrator would: AES keys, RSA pairs,
 * usage flags (disable / enable), destruction. It shares the process-wide module with the adapter (see
 * `Pkcs11Module`), so it never finalises the module under a provider, and each call uses a session of its own.
 */
export class Pkcs11TestKeys {
  private readonly module: Pkcs11Module;
  private released = false;

  constructor(private readonly options: Pkcs11TestTokenOptions) {
    this.module = Pkcs11Module.acquire(options.modulePath);
  }

  createAesKey(options: AesKeyOptions): CreatedTestKey {
    const id = options.id ?? randomBytes(8);
    const extractable = options.extractable ?? false;
    this.withSession((lib, session) =>
      lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: (options.bits ?? 256) / 8 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: !extractable },
        { type: pkcs11js.CKA_EXTRACTABLE, value: extractable },
        { type: pkcs11js.CKA_MODIFIABLE, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_LABEL, value: options.label },
        { type: pkcs11js.CKA_ID, value: id },
      ]),
    );
    return this.created(options.label, id);
  }

  createRsaKeyPair(options: RsaKeyPairOptions): CreatedTestKey {
    const id = options.id ?? randomBytes(8);
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_MODIFIABLE, value: true },
      { type: pkcs11js.CKA_LABEL, value: options.label },
      { type: pkcs11js.CKA_ID, value: id },
    ];
    this.withSession((lib, session) =>
      lib.C_GenerateKeyPair(
        session,
        { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
        [
          ...common,
          { type: pkcs11js.CKA_PRIVATE, value: false },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_VERIFY, value: true },
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_MODULUS_BITS, value: options.bits ?? 3072 },
          { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ],
        [
          ...common,
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_DECRYPT, value: true },
          { type: pkcs11js.CKA_SIGN, value: true },
          { type: pkcs11js.CKA_UNWRAP, value: true },
        ],
      ),
    );
    return this.created(options.label, id);
  }

  /**
   * Sets CKA_ENCRYPT / CKA_DECRYPT on every key object with this label (for a pair: encrypt on the public key,
   * decrypt on the private key), as an HSM administrator disabling or re-enabling a key would.
   */
  setUsage(label: string, usage: { encrypt?: boolean; decrypt?: boolean }): void {
    this.withSession((lib, session) => {
      for (const handle of this.objects(lib, session, label)) {
        const cls = readUlong(lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_CLASS }])[0].value);
        const template: pkcs11js.Template = [];
        if (usage.encrypt !== undefined && cls !== pkcs11js.CKO_PRIVATE_KEY) template.push({ type: pkcs11js.CKA_ENCRYPT, value: usage.encrypt });
        if (usage.decrypt !== undefined && cls !== pkcs11js.CKO_PUBLIC_KEY) template.push({ type: pkcs11js.CKA_DECRYPT, value: usage.decrypt });
        if (template.length > 0) lib.C_SetAttributeValue(session, handle, template);
      }
    });
  }

  /** Destroys every object with this label. */
  destroy(label: string): void {
    this.withSession((lib, session) => {
      for (const handle of this.objects(lib, session, label)) lib.C_DestroyObject(session, handle);
    });
  }

  /** The public half of a pair, for checking RSA ciphertexts with another implementation. */
  publicKey(label: string): KeyObject {
    return this.withSession((lib, session) => {
      const pub = this.objects(lib, session, label, pkcs11js.CKO_PUBLIC_KEY)[0];
      if (!pub) throw new Error(`no public key labelled ${label}`);
      const [n, e] = lib.C_GetAttributeValue(session, pub, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
      return createPublicKey({ key: { kty: 'RSA', n: n.value.toString('base64url'), e: e.value.toString('base64url') }, format: 'jwk' });
    });
  }

  /** Key bytes of an AES key created with `extractable: true` (tests only). */
  exportSecret(label: string): Buffer {
    return this.withSession((lib, session) => {
      const key = this.objects(lib, session, label, pkcs11js.CKO_SECRET_KEY)[0];
      if (!key) throw new Error(`no secret key labelled ${label}`);
      return lib.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }])[0].value;
    });
  }

  /** Token objects with this label, of any class. */
  count(label: string): number {
    return this.withSession((lib, session) => this.objects(lib, session, label).length);
  }

  /** Every object on the token the user can see, to check an operation left nothing behind. */
  countAll(): number {
    return this.withSession((lib, session) => {
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_TOKEN, value: true }]);
      try {
        return lib.C_FindObjects(session, 4096).length;
      } finally {
        lib.C_FindObjectsFinal(session);
      }
    });
  }

  /** Boolean attributes of the one object of class `cls` labelled `label`, in the order asked. */
  flags(label: string, cls: number, types: number[]): boolean[] {
    return this.withSession((lib, session) => {
      const found = this.objects(lib, session, label, cls);
      if (found.length !== 1) throw new Error(`${found.length} objects of class ${cls} labelled ${label}`);
      return lib.C_GetAttributeValue(session, found[0], types.map((type) => ({ type }))).map((a) => a.value.length > 0 && a.value[0] !== 0);
    });
  }

  /** The raw value of one attribute (tests check what a token refuses to reveal, too: the error is returned). */
  attribute(label: string, cls: number, type: number): Buffer | Error {
    return this.withSession((lib, session) => {
      const found = this.objects(lib, session, label, cls);
      if (found.length !== 1) throw new Error(`${found.length} objects of class ${cls} labelled ${label}`);
      try {
        return lib.C_GetAttributeValue(session, found[0], [{ type }])[0].value;
      } catch (e) {
        return e as Error;
      }
    });
  }

  /** A read-write session logged in as the user, for tests that drive token-side steps themselves. */
  async withRwSession<T>(fn: (lib: pkcs11js.PKCS11, session: Buffer) => Promise<T>): Promise<T> {
    if (this.released) throw new Error('Pkcs11TestKeys is closed');
    this.module.ensureInitialized();
    const { lib } = this.module;
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === this.options.tokenLabel);
    if (!slot) throw new Error(`no token labelled ${this.options.tokenLabel}`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, this.options.pin);
      } catch (e) {
        if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      return await fn(lib, session);
    } finally {
      lib.C_CloseSession(session);
    }
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    this.module.release();
  }

  private created(label: string, id: Buffer): CreatedTestKey {
    const token = this.options.tokenLabel;
    return {
      label,
      id,
      ref: formatPkcs11KeyRef({ token, object: label }),
      refById: formatPkcs11KeyRef({ token, id }),
    };
  }

  private objects(lib: pkcs11js.PKCS11, session: Buffer, label: string, cls?: number): Buffer[] {
    const template: pkcs11js.Template = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
    ];
    if (cls !== undefined) template.push({ type: pkcs11js.CKA_CLASS, value: cls });
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, 64);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  }

  /** A read-write session logged in as the user; one retry when the module was finalised under us. */
  private withSession<T>(fn: (lib: pkcs11js.PKCS11, session: Buffer) => T): T {
    if (this.released) throw new Error('Pkcs11TestKeys is closed');
    for (let attempt = 0; ; attempt++) {
      const generation = this.module.generation;
      try {
        this.module.ensureInitialized();
        const { lib } = this.module;
        const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === this.options.tokenLabel);
        if (!slot) throw new Error(`no token labelled ${this.options.tokenLabel}`);
        const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
        try {
          try {
            lib.C_Login(session, pkcs11js.CKU_USER, this.options.pin);
          } catch (e) {
            if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
          }
          return fn(lib, session);
        } finally {
          try {
            lib.C_CloseSession(session);
          } catch {
            // gone already
          }
        }
      } catch (e) {
        if (attempt > 0 || !needsSessionRecovery(e)) throw e;
        this.module.recover(generation);
      }
    }
  }
}
