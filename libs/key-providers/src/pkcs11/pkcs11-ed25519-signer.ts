import { createPublicKey, createHash, KeyObject } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { CredentialResolver, DefaultCredentialResolver, parseCredentialRef } from '../credentials/credential-source';
import { AccessDeniedError, InvalidProviderConfigError, KeyNotFoundError, ProviderUnavailableError } from '../key-provider.errors';
import { isCkr } from './pkcs11-errors';
import { Pkcs11Module } from './pkcs11-module';

// PKCS#11 3.0 values (pkcs11js 2 predates them).
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** DER OID 1.3.101.112 (id-Ed25519, RFC 8410) as CKA_EC_PARAMS. */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Pkcs11Ed25519SignerConfig {
  modulePath: string;
  tokenLabel: string;
  /** Reference to the user PIN (`env:` / `file:`), never the PIN. */
  pin: string;
  /** Label of the Ed25519 key pair on the token. */
  keyLabel: string;
  /** Generate the pair on the token (private key sensitive, non-extractable, sign only) when it does not exist. */
  createIfMissing?: boolean;
  credentials?: CredentialResolver;
}

/**
 * An Ed25519 signing key that never leaves the HSM (CKM_EDDSA over PKCS#11 3.0; SoftHSM2 2.6 has it): the audit
 * sealer signs checkpoints with it. One session, signatures one at a time (checkpoints are seconds apart).
 */
export class Pkcs11Ed25519Signer {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly module: Pkcs11Module,
    private readonly session: Buffer,
    private readonly privateKey: Buffer,
    readonly publicKey: KeyObject,
    readonly location: string,
  ) {}

  static async open(config: Pkcs11Ed25519SignerConfig): Promise<Pkcs11Ed25519Signer> {
    if (!config.modulePath) throw new InvalidProviderConfigError('modulePath', 'is required');
    if (!config.tokenLabel) throw new InvalidProviderConfigError('tokenLabel', 'is required');
    if (!config.keyLabel) throw new InvalidProviderConfigError('keyLabel', 'is required');
    parseCredentialRef(config.pin ?? '', 'pin');
    const pin = await (config.credentials ?? new DefaultCredentialResolver()).resolve(config.pin);
    const module = Pkcs11Module.acquire(config.modulePath);
    let session: Buffer | undefined;
    try {
      module.ensureInitialized();
      const lib = module.lib;
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === config.tokenLabel);
      if (!slot) throw new ProviderUnavailableError(`no PKCS#11 token labelled "${config.tokenLabel}"`, { operation: 'open' });
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, pin);
      } catch (e) {
        if (isCkr(e, 'CKR_PIN_INCORRECT') || isCkr(e, 'CKR_PIN_LOCKED')) throw new AccessDeniedError(`login to token "${config.tokenLabel}" refused`, { operation: 'login' });
        if (!isCkr(e, 'CKR_USER_ALREADY_LOGGED_IN')) throw e;
      }
      let pair = findPair(lib, session, config.keyLabel);
      if (!pair && config.createIfMissing) pair = generatePair(lib, session, config.keyLabel);
      if (!pair) throw new KeyNotFoundError(`no Ed25519 key pair labelled "${config.keyLabel}" on token "${config.tokenLabel}"`, { operation: 'open' });
      const point = lib.C_GetAttributeValue(session, pair.publicKey, [{ type: pkcs11js.CKA_EC_POINT }])[0].value as Buffer;
      const raw = point.length === 34 && point[0] === 0x04 && point[1] === 0x20 ? point.subarray(2) : point;
      if (raw.length !== 32) throw new ProviderUnavailableError('the token returned an Ed25519 public key of unexpected length', { operation: 'open' });
      const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
      return new Pkcs11Ed25519Signer(module, session, pair.privateKey, publicKey, `pkcs11:token=${config.tokenLabel};object=${config.keyLabel}`);
    } catch (error) {
      if (session) {
        try {
          module.lib.C_CloseSession(session);
        } catch {
          /* already gone */
        }
      }
      module.release();
      throw error;
    }
  }

  /** base64url signature; the private key never leaves the token. */
  sign(payload: Uint8Array): Promise<string> {
    const run = this.queue.then(() => {
      if (this.closed) throw new ProviderUnavailableError('the audit signer is closed', { operation: 'sign' });
      const lib = this.module.lib;
      lib.C_SignInit(this.session, { mechanism: CKM_EDDSA }, this.privateKey);
      return (lib.C_Sign(this.session, Buffer.from(payload), Buffer.alloc(64)) as Buffer).toString('base64url');
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    try {
      this.module.lib.C_CloseSession(this.session);
    } catch {
      /* finalised under us */
    }
    this.module.release();
  }
}

function findObject(lib: pkcs11js.PKCS11, session: Buffer, template: pkcs11js.Template): Buffer | undefined {
  lib.C_FindObjectsInit(session, template);
  try {
    return lib.C_FindObjects(session, 1)[0];
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

function findPair(lib: pkcs11js.PKCS11, session: Buffer, label: string): { privateKey: Buffer; publicKey: Buffer } | undefined {
  const privateKey = findObject(lib, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  const publicKey = findObject(lib, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  return privateKey && publicKey ? { privateKey, publicKey } : undefined;
}

function generatePair(lib: pkcs11js.PKCS11, session: Buffer, label: string): { privateKey: Buffer; publicKey: Buffer } {
  const id = createHash('sha256').update(label).digest().subarray(0, 8);
  const keys = lib.C_GenerateKeyPair(
    session,
    { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
    [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_EC_PARAMS, value: ED25519_PARAMS },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ],
    [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: id },
    ],
  );
  return { privateKey: keys.privateKey, publicKey: keys.publicKey };
}
