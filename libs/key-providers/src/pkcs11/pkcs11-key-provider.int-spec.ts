import { constants, createCipheriv, createDecipheriv, createHash, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { applySoftHsmEnv, initSoftHsm, SoftHsm, SoftHsmToken } from '@cmk/testing/softhsm';
import { aesKeyCheckValue, wrapKeyMaterialForImport } from '../byok/byok-wrap';
import {
  AccessDeniedError,
  ImportRefusedError,
  InvalidCiphertextError,
  InvalidKeyReferenceError,
  InvalidProviderConfigError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { ImportWrappingAlgorithm, KeyMaterialImport } from '../key-provider.port';
import { describeKeyProviderContract } from '../testing/key-provider.contract';
import { Pkcs11KeyProvider } from './pkcs11-key-provider.adapter';
import { ImportOaepHash, Pkcs11KeyImporter, wrapForImport } from './pkcs11-import';
import { IMPORT_PAIR_LABEL_PREFIX } from './pkcs11-import-ticket';
import { Pkcs11KeyProviderConfig } from './pkcs11-key-provider.config';
import { parsePkcs11KeyRef } from './pkcs11-uri';
import { CreatedTestKey, Pkcs11TestKeys } from './testing/pkcs11-test-keys';

/**
 * Runs against a real SoftHSM2 token (Debian's softhsm2, via deploy/local/softhsm.sh) initialised in a temporary
 * directory. When SoftHSM2 cannot be set up, beforeAll throws and every test here fails: nothing is skipped.
 */
let hsm: SoftHsm;
let admin: Pkcs11TestKeys;
let aes: CreatedTestKey;
let aesById: CreatedTestKey;
let rsa: CreatedTestKey;
let interopAes: CreatedTestKey;
/** Token only the pool test logs into, so its login count is the adapter's own. */
let poolToken: SoftHsmToken;
let poolAes: CreatedTestKey;
/** Token the wrong-PIN tests hammer, so nothing they do can lock the main token. */
let pinToken: SoftHsmToken;

const config = (extra: Partial<Pkcs11KeyProviderConfig> = {}): Pkcs11KeyProviderConfig => ({
  modulePath: hsm.modulePath,
  tokenLabel: hsm.tokenLabel,
  pin: 'env:CMK_PKCS11_PIN',
  ...extra,
});

beforeAll(async () => {
  // Every token first: SoftHSM2 scans its token directory once, in C_Initialize.
  hsm = initSoftHsm();
  poolToken = hsm.addToken('cmk-pool');
  pinToken = hsm.addToken('cmk-pin');
  // SoftHSM2 reads SOFTHSM2_CONF in C_Initialize; the adapter reads the PINs from these variables at login.
  await applySoftHsmEnv(hsm.env);
  process.env.CMK_TEST_POOL_PIN = poolToken.pin;
  process.env.CMK_TEST_PIN_TOKEN_PIN = pinToken.pin;

  admin = new Pkcs11TestKeys({ modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: hsm.pin });
  aes = admin.createAesKey({ label: 'tenant-l1-aes' });
  aesById = admin.createAesKey({ label: 'tenant-l1-aes-by-id', id: Buffer.from('c0ffee01', 'hex') });
  rsa = admin.createRsaKeyPair({ label: 'tenant-l1-rsa' });
  interopAes = admin.createAesKey({ label: 'interop-aes', extractable: true });
  const poolAdmin = new Pkcs11TestKeys({ modulePath: hsm.modulePath, tokenLabel: poolToken.tokenLabel, pin: poolToken.pin });
  poolAes = poolAdmin.createAesKey({ label: 'pool-aes' });
  poolAdmin.close();
}, 60_000);

afterAll(() => {
  admin?.close();
  hsm?.destroy();
});

const contractFixture = (extra: Partial<Pkcs11KeyProviderConfig>) => async () => ({
  provider: new Pkcs11KeyProvider(config(extra)),
  keys: [
    { name: 'AES-256 by label', ref: aes.ref, algorithm: 'AES', sizeBits: 256 },
    { name: 'AES-256 by id', ref: aesById.refById, algorithm: 'AES', sizeBits: 256 },
    { name: 'RSA-3072 pair', ref: rsa.ref, algorithm: 'RSA', sizeBits: 3072, maxPlaintextBytes: 318 },
  ],
  missingKeyRef: `pkcs11:token=${hsm.tokenLabel};object=no-such-key`,
  // No `byok`: SoftHSM2 (every release) does CKM_RSA_PKCS_OAEP with SHA-1 only, so it cannot unwrap the port's
  // SHA-256 formats inside the token, and the contract checks that getImportParameters says so with
  // UnsupportedOperationError. The token-side import steps run below on SoftHSM2 with SHA-1 instead.
  scratchKey: async () => admin.createAesKey({ label: `scratch-${randomBytes(6).toString('hex')}` }).ref,
  admin: {
    // What an HSM administrator does: C_SetAttributeValue of the usage flags, in a session of their own.
    disable: async (ref: string) => admin.setUsage(parsePkcs11KeyRef(ref).object!, { encrypt: false, decrypt: false }),
    enable: async (ref: string) => admin.setUsage(parsePkcs11KeyRef(ref).object!, { encrypt: true, decrypt: true }),
  },
  // PKCS#11 has no key versions: rotateKey must refuse with UnsupportedOperationError.
  rotates: false,
});

describeKeyProviderContract('PKCS#11 adapter against a real SoftHSM2 2.6 token (Debian softhsm2, temp dir)', contractFixture({}));

describeKeyProviderContract(
  'PKCS#11 adapter with callMode sync against a real SoftHSM2 2.6 token (Debian softhsm2, temp dir)',
  contractFixture({ callMode: 'sync', maxSessions: 2 }),
);

describe('PKCS#11 adapter on SoftHSM2', () => {
  let provider: Pkcs11KeyProvider;
  beforeAll(() => {
    provider = new Pkcs11KeyProvider(config());
  });
  afterAll(() => provider.close());

  describe('keys and mechanisms', () => {
    it('finds a key by label or by id, and reports the same key either way', async () => {
      const byLabel = await provider.describeKey(aesById.ref);
      const byId = await provider.describeKey(aesById.refById);
      expect(byId.fingerprint).toBe(byLabel.fingerprint);
      const { ciphertext } = await provider.wrap(aesById.ref, Buffer.from('l2-key-material'));
      expect((await provider.unwrap(aesById.refById, ciphertext)).toString()).toBe('l2-key-material');
      expect(byLabel.location).toContain(`pkcs11 token "${hsm.tokenLabel}"`);
    });

    it('wraps with CKM_AES_GCM as IV(12) || ciphertext || tag(16), readable by any AES-GCM implementation', async () => {
      const key = admin.exportSecret(interopAes.label);
      const plaintext = randomBytes(32);
      const aad = Buffer.from('tenant-7');
      const { ciphertext, algorithm } = await provider.wrap(interopAes.ref, plaintext, aad);
      expect(algorithm).toBe('AES_256_GCM');
      expect(ciphertext.length).toBe(12 + 32 + 16);
      const decipher = createDecipheriv('aes-256-gcm', key, ciphertext.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(-16));
      expect(Buffer.concat([decipher.update(ciphertext.subarray(12, -16)), decipher.final()])).toEqual(plaintext);

      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      expect(await provider.unwrap(interopAes.ref, Buffer.concat([iv, body]), aad)).toEqual(plaintext);
    });

    it('fingerprints an AES key by its KCV (first 3 bytes of AES-ECB over a zero block)', async () => {
      const key = admin.exportSecret(interopAes.label);
      const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
      const kcv = ecb.update(Buffer.alloc(16)).subarray(0, 3).toString('hex');
      expect((await provider.describeKey(interopAes.ref)).fingerprint).toBe(`kcv:${kcv}`);
    });

    it('wraps with standard RSAES-OAEP-SHA-256 (aad as OAEP label): OpenSSL ciphertexts unwrap, fingerprint is the SPKI hash', async () => {
      const publicKey = admin.publicKey(rsa.label);
      const plaintext = randomBytes(32);
      const aad = Buffer.from('tenant-9');
      const ciphertext = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: aad }, plaintext);
      expect(await provider.unwrap(rsa.ref, ciphertext, aad)).toEqual(plaintext);
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      expect((await provider.describeKey(rsa.ref)).fingerprint).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
      // SoftHSM2 2.6 only does CKM_RSA_PKCS_OAEP with SHA-1: the adapter falls back to CKM_RSA_X_509 + OAEP padding.
      expect(provider.stats().rsaOaepMode).toBe('raw-rsa');
    });

    it('refuses a plaintext too long for the RSA key with UnsupportedOperationError', async () => {
      await expect(provider.wrap(rsa.ref, randomBytes(319))).rejects.toMatchObject({ code: 'unsupported-operation' });
    });

    it('refuses references to another token (KeyNotFound), ambiguous and PIN-carrying references (InvalidKeyReference)', async () => {
      await expect(provider.describeKey('pkcs11:token=someone-else;object=tenant-l1-aes')).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(provider.describeKey(`pkcs11:token=${hsm.tokenLabel};object=tenant-l1-aes?pin-value=1234`)).rejects.toBeInstanceOf(
        InvalidKeyReferenceError,
      );
      admin.createAesKey({ label: 'twin' });
      admin.createAesKey({ label: 'twin' });
      await expect(provider.wrap(`pkcs11:token=${hsm.tokenLabel};object=twin`, randomBytes(32))).rejects.toBeInstanceOf(InvalidKeyReferenceError);
    });

    it('reports a key destroyed after its handle was cached as KeyNotFoundError, not a stale handle', async () => {
      const doomed = admin.createAesKey({ label: 'doomed' });
      const { ciphertext } = await provider.wrap(doomed.ref, randomBytes(32));
      admin.destroy(doomed.label);
      await expect(provider.unwrap(doomed.ref, ciphertext)).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(provider.describeKey(doomed.ref)).rejects.toBeInstanceOf(KeyNotFoundError);
    });
  });

  describe('disabled keys (usage attributes changed at the HSM)', () => {
    it('an AES key with CKA_ENCRYPT/CKA_DECRYPT false is disabled: describeKey says so, wrap and unwrap fail with KeyDisabledError', async () => {
      const key = admin.createAesKey({ label: 'to-disable' });
      const before = await provider.describeKey(key.ref);
      const { ciphertext } = await provider.wrap(key.ref, Buffer.from('secret-l2'));

      admin.setUsage(key.label, { encrypt: false, decrypt: false });
      const disabled = await provider.describeKey(key.ref);
      expect(disabled.state).toBe('disabled');
      expect(disabled.fingerprint).toBe(before.fingerprint);
      await expect(provider.wrap(key.ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(provider.unwrap(key.ref, ciphertext)).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(provider.proofOfPossession(key.ref)).rejects.toBeInstanceOf(KeyDisabledError);

      admin.setUsage(key.label, { decrypt: true });
      expect((await provider.describeKey(key.ref)).state).toBe('disabled');
      expect((await provider.unwrap(key.ref, ciphertext)).toString()).toBe('secret-l2');

      admin.setUsage(key.label, { encrypt: true });
      expect((await provider.describeKey(key.ref)).state).toBe('enabled');
      expect((await provider.proofOfPossession(key.ref)).ok).toBe(true);
    });

    it('an RSA pair whose private key may not decrypt is disabled and unwrap fails with KeyDisabledError', async () => {
      const pair = admin.createRsaKeyPair({ label: 'rsa-to-disable', bits: 2048 });
      const { ciphertext } = await provider.wrap(pair.ref, randomBytes(32));
      admin.setUsage(pair.label, { decrypt: false });
      expect((await provider.describeKey(pair.ref)).state).toBe('disabled');
      await expect(provider.unwrap(pair.ref, ciphertext)).rejects.toBeInstanceOf(KeyDisabledError);
      admin.setUsage(pair.label, { encrypt: false, decrypt: true });
      await expect(provider.wrap(pair.ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
      expect((await provider.unwrap(pair.ref, ciphertext)).length).toBe(32);
    });
  });

  describe('session pool', () => {
    it('stays within its bound under load, reuses sessions and logs in once', async () => {
      const pooled = new Pkcs11KeyProvider({
        modulePath: hsm.modulePath,
        tokenLabel: poolToken.tokenLabel,
        pin: 'env:CMK_TEST_POOL_PIN',
        maxSessions: 3,
      });
      try {
        const work = Array.from({ length: 300 }, async (_x, i) => {
          const plaintext = randomBytes(32);
          const { ciphertext } = await pooled.wrap(poolAes.ref, plaintext, Buffer.from(`n${i}`));
          expect(await pooled.unwrap(poolAes.ref, ciphertext, Buffer.from(`n${i}`))).toEqual(plaintext);
        });
        await Promise.all(work);
        const stats = pooled.stats();
        expect(stats.peakOpen).toBeLessThanOrEqual(3);
        expect(stats.opened).toBeLessThanOrEqual(3);
        expect(stats.open).toBeLessThanOrEqual(3);
        expect(stats.peakWaiting).toBeGreaterThan(0);
        expect(stats.logins).toBe(1);
        expect(stats.inUse).toBe(0);
      } finally {
        await pooled.close();
      }
    });

    it('fails with a retryable ProviderUnavailableError when no session frees up in time', async () => {
      const tight = new Pkcs11KeyProvider(config({ maxSessions: 1, acquireTimeoutMs: 5 }));
      try {
        const { ciphertext } = await tight.wrap(rsa.ref, randomBytes(32));
        const results = await Promise.allSettled(Array.from({ length: 60 }, () => tight.unwrap(rsa.ref, ciphertext)));
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
        expect(refused.length).toBeGreaterThan(0);
        for (const e of refused) {
          expect(e).toBeInstanceOf(ProviderUnavailableError);
          expect((e as ProviderUnavailableError).retryable).toBe(true);
        }
        expect(tight.stats().peakOpen).toBe(1);
      } finally {
        await tight.close();
      }
    });
  });

  describe('recovery when the module is finalised underneath the adapter', () => {
    const underneath = () => {
      const raw = new pkcs11js.PKCS11();
      raw.load(hsm.modulePath); // the same library instance the adapter uses: Cryptoki state is per process
      return raw;
    };

    it('re-initialises after C_Finalize (CKR_CRYPTOKI_NOT_INITIALIZED) and retries once, for every call in flight', async () => {
      const warnings: Record<string, unknown>[] = [];
      const recovering = new Pkcs11KeyProvider(
        config({ logger: { info: () => undefined, warn: (obj) => warnings.push(obj) } }),
      );
      try {
        const { ciphertext } = await recovering.wrap(aes.ref, Buffer.from('before'));
        const before = recovering.stats();

        underneath().C_Finalize();
        expect((await recovering.unwrap(aes.ref, ciphertext)).toString()).toBe('before');
        const after = recovering.stats();
        expect(after.recoveries).toBe(before.recoveries + 1);
        expect(after.generation).toBe(before.generation + 1);

        underneath().C_Finalize();
        const plaintexts = Array.from({ length: 50 }, () => randomBytes(32));
        const wrapped = await Promise.all(plaintexts.map((p) => recovering.wrap(aes.ref, p)));
        const back = await Promise.all(wrapped.map((w) => recovering.unwrap(aes.ref, w.ciphertext)));
        back.forEach((b, i) => expect(b).toEqual(plaintexts[i]));
        expect(recovering.stats().generation).toBe(before.generation + 2);
        expect(warnings.some((w) => w.providerCode === 'CKR_CRYPTOKI_NOT_INITIALIZED')).toBe(true);
        expect(JSON.stringify(warnings)).not.toContain(hsm.pin);
      } finally {
        await recovering.close();
      }
    });

    it('recovers when the module was finalised and initialised again (CKR_SESSION_HANDLE_INVALID)', async () => {
      const recovering = new Pkcs11KeyProvider(config());
      try {
        const { ciphertext } = await recovering.wrap(rsa.ref, Buffer.from('before'));
        const raw = underneath();
        raw.C_Finalize();
        raw.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
        expect((await recovering.unwrap(rsa.ref, ciphertext)).toString()).toBe('before');
        expect(recovering.stats().recoveries).toBe(1);
        expect((await recovering.health()).healthy).toBe(true);
      } finally {
        await recovering.close();
      }
    });
  });

  describe('re-login', () => {
    it('logs in again, once, when the user was logged out underneath the adapter (private keys vanish from its sessions)', async () => {
      const warnings: Record<string, unknown>[] = [];
      const relogging = new Pkcs11KeyProvider({
        modulePath: hsm.modulePath,
        tokenLabel: poolToken.tokenLabel,
        pin: 'env:CMK_TEST_POOL_PIN',
        logger: { info: () => undefined, warn: (obj) => warnings.push(obj) },
      });
      try {
        const { ciphertext } = await relogging.wrap(poolAes.ref, Buffer.from('before'));
        expect(relogging.stats().logins).toBe(1);
        const raw = new pkcs11js.PKCS11();
        raw.load(hsm.modulePath);
        const slot = raw.C_GetSlotList(true).find((s) => raw.C_GetTokenInfo(s).label.trimEnd() === poolToken.tokenLabel)!;
        const session = raw.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
        raw.C_Logout(session); // login state is per token and application: this logs the adapter out too
        raw.C_CloseSession(session);
        expect((await relogging.unwrap(poolAes.ref, ciphertext)).toString()).toBe('before');
        expect(relogging.stats()).toMatchObject({ logins: 2, recoveries: 1 });
        expect(warnings.map((w) => w.reason)).toEqual(['logged-out']);
      } finally {
        await relogging.close();
      }
    });
  });

  describe('PINs and configuration', () => {
    it('never puts a PIN in any error: wrong PIN, missing PIN, unknown key, bad ciphertext, disabled key, bad module, no token', async () => {
      const wrongPin = `wrong-${randomBytes(6).toString('hex')}`;
      process.env.CMK_TEST_WRONG_PIN = wrongPin;
      const secrets = [hsm.pin, pinToken.pin, poolToken.pin, wrongPin];
      const pinTokenRef = `pkcs11:token=${pinToken.tokenLabel};object=any`;
      const disabled = admin.createAesKey({ label: 'disabled-for-pin-test' });
      const { ciphertext } = await provider.wrap(disabled.ref, randomBytes(32));
      admin.setUsage(disabled.label, { encrypt: false, decrypt: false });

      const wrong = new Pkcs11KeyProvider({ ...config(), tokenLabel: pinToken.tokenLabel, pin: 'env:CMK_TEST_WRONG_PIN' });
      const unset = new Pkcs11KeyProvider({ ...config(), tokenLabel: pinToken.tokenLabel, pin: 'env:CMK_TEST_PIN_NOT_SET' });
      const badModule = new Pkcs11KeyProvider(config({ modulePath: '/nonexistent/libpkcs11.so' }));
      const noToken = new Pkcs11KeyProvider(config({ tokenLabel: 'no-such-token' }));
      const attempts: Array<[string, () => Promise<unknown>, new (...args: never[]) => KeyProviderError]> = [
        ['wrong PIN: wrap', () => wrong.wrap(pinTokenRef, randomBytes(32)), AccessDeniedError],
        ['wrong PIN: connect', () => wrong.connect(), AccessDeniedError],
        ['wrong PIN: describeKey', () => wrong.describeKey(pinTokenRef), AccessDeniedError],
        ['PIN reference not set', () => unset.connect(), AccessDeniedError],
        ['unknown key', () => provider.describeKey(`pkcs11:token=${hsm.tokenLabel};object=nope`), KeyNotFoundError],
        ['tampered ciphertext', () => provider.unwrap(aes.ref, randomBytes(60)), InvalidCiphertextError],
        ['disabled key', () => provider.unwrap(disabled.ref, ciphertext), KeyDisabledError],
        ['module missing', () => badModule.connect(), ProviderUnavailableError],
        ['token missing', () => noToken.connect(), ProviderUnavailableError],
      ];
      for (const [what, attempt, type] of attempts) {
        const error = await attempt().then(
          () => {
            throw new Error(`${what}: expected a failure`);
          },
          (e: unknown) => e,
        );
        expect({ what, error }).toEqual({ what, error: expect.any(type) });
        const everything = [
          String(error),
          (error as Error).message,
          (error as Error).stack ?? '',
          JSON.stringify(error),
          JSON.stringify((error as KeyProviderError).details ?? {}),
        ].join('\n');
        for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
      }
      const health = await wrong.health();
      expect(health.healthy).toBe(false);
      expect(health.reason).toMatch(/CKR_PIN_INCORRECT/);
      for (const secret of secrets) expect(health.reason).not.toContain(secret);
      await Promise.all([wrong.close(), unset.close(), badModule.close(), noToken.close()]);
    });

    it('refuses a PIN given instead of a PIN reference, without echoing it', () => {
      let error: unknown;
      try {
        new Pkcs11KeyProvider(config({ pin: hsm.pin }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidProviderConfigError);
      expect(String((error as Error).message)).not.toContain(hsm.pin);
    });

    it('resolves the PIN at login time from a file reference, and logs in once', async () => {
      const { writeFileSync } = await import('node:fs');
      const file = `${hsm.dir}/pin-token.pin`;
      writeFileSync(file, `${pinToken.pin}\n`, { mode: 0o600 });
      const fromFile = new Pkcs11KeyProvider({ ...config(), tokenLabel: pinToken.tokenLabel, pin: `file:${file}` });
      try {
        await fromFile.connect();
        expect(await fromFile.health()).toMatchObject({ healthy: true });
        expect(fromFile.stats().logins).toBe(1);
      } finally {
        await fromFile.close();
      }
    });
  });
});

describe('BYOK import into SoftHSM2', () => {
  const fresh = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;
  const refFor = (label: string) => `pkcs11:token=${hsm.tokenLabel};object=${label}`;
  const target = (label: string) => ({ label, keyRef: refFor(label) });
  const failure = async (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => new Error('expected a failure, but it succeeded'),
      (e: unknown) => e,
    );
  const refusal = async (promise: Promise<unknown>, rule: ImportRefusedError['rule']) => {
    const e = await failure(promise);
    expect(e).toBeInstanceOf(ImportRefusedError);
    expect((e as ImportRefusedError).rule).toBe(rule);
    return e as ImportRefusedError;
  };
  /** The pair behind an import token: its label carries the token's last 16 bytes. */
  const pairLabel = (importToken: string) => `${IMPORT_PAIR_LABEL_PREFIX}${importToken.slice(-32)}`;

  describe('through the adapter (RSAES-OAEP-SHA-256 as the port names it)', () => {
    it('refuses up front with UnsupportedOperationError naming the token refusal (CKR_ARGUMENTS_BAD), leaving nothing on the token', async () => {
      const logs: Array<Record<string, unknown>> = [];
      const provider = new Pkcs11KeyProvider(config({ logger: { info: (o) => logs.push(o), warn: (o) => logs.push(o) } }));
      try {
        const before = admin.countAll();
        for (const wrappingAlgorithm of ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const) {
          const label = fresh('byok-target');
          const e = await failure(provider.getImportParameters(refFor(label), { wrappingAlgorithm, wrappingKeySpec: 'RSA_3072' }));
          expect(e).toBeInstanceOf(UnsupportedOperationError);
          expect((e as UnsupportedOperationError).details).toMatchObject({ providerCode: 'CKR_ARGUMENTS_BAD', keyRef: refFor(label) });
          const importing = provider.importKeyMaterial(refFor(label), { importToken: 'ab'.repeat(35), wrappingAlgorithm, wrappedKeyMaterial: randomBytes(424) });
          await expect(importing).rejects.toBeInstanceOf(UnsupportedOperationError);
          expect(admin.count(label)).toBe(0);
        }
        expect(admin.countAll()).toBe(before);
        expect(logs.filter((l) => l.operation === 'import-probe').map((l) => l.providerCode)).toEqual(['CKR_ARGUMENTS_BAD', 'CKR_ARGUMENTS_BAD']);
        expect(JSON.stringify(logs)).not.toContain(hsm.pin);
      } finally {
        await provider.close();
      }
    });

    it('refuses import targets named by id=, or by nothing but a type, with InvalidKeyReferenceError before touching the token', async () => {
      const provider = new Pkcs11KeyProvider(config());
      try {
        const request = { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' } as const;
        await expect(provider.getImportParameters(`pkcs11:token=${hsm.tokenLabel};object=x;id=01`, request)).rejects.toBeInstanceOf(InvalidKeyReferenceError);
        await expect(provider.getImportParameters(`pkcs11:token=${hsm.tokenLabel};object=x;type=private`, request)).rejects.toBeInstanceOf(InvalidKeyReferenceError);
        await expect(provider.getImportParameters('', request)).rejects.toBeInstanceOf(InvalidKeyReferenceError);
        await expect(provider.getImportParameters('pkcs11:token=other;object=x', request)).rejects.toBeInstanceOf(KeyNotFoundError);
        const bogus = { wrappingAlgorithm: 'RSA_PKCS1_V1_5', wrappingKeySpec: 'RSA_2048' } as unknown as typeof request;
        await expect(provider.getImportParameters(refFor('x'), bogus)).rejects.toBeInstanceOf(UnsupportedOperationError);
      } finally {
        await provider.close();
      }
    });
  });

  describe('token-side steps (Pkcs11KeyImporter) with OAEP-SHA-1, the only OAEP hash SoftHSM2 has', () => {
    let clock = Date.now();
    const importer = (oaepHash: ImportOaepHash = 'sha1', ttlMs = 3600_000) => new Pkcs11KeyImporter({ oaepHash, ttlMs, now: () => clock });
    const kwp: ImportWrappingAlgorithm = 'RSA_AES_KEY_WRAP_SHA_256';
    const wrapSha1 = (publicKeyPem: string, material: Buffer, algorithm = kwp) => wrapForImport(createPublicKey(publicKeyPem), algorithm, material, 'sha1');
    const params = (imp: Pkcs11KeyImporter, label: string, wrappingKeySpec: 'RSA_3072' | 'RSA_4096' = 'RSA_3072') =>
      admin.withRwSession((lib, s) => imp.createParameters(lib, s, target(label), { wrappingAlgorithm: kwp, wrappingKeySpec }));
    const importing = (imp: Pkcs11KeyImporter, label: string, material: KeyMaterialImport) =>
      admin.withRwSession(async (lib, s) => imp.importMaterial(lib, s, target(label), material));

    it('probe: SHA-256 is refused by the token for both algorithms; with SHA-1, key wrap imports and bare OAEP cannot be size-checked', async () => {
      await admin.withRwSession(async (lib, s) => {
        for (const algorithm of ['RSAES_OAEP_SHA_256', kwp] as const) {
          expect(await importer('sha256').probe(lib, s, algorithm)).toMatchObject({ supported: false, providerCode: 'CKR_ARGUMENTS_BAD' });
        }
        expect(await importer('sha1').probe(lib, s, kwp)).toEqual({ supported: true });
        // SoftHSM2 records no CKA_VALUE_LEN for unwrapped keys, and a bare OAEP blob does not bound the length.
        const oaep = await importer('sha1').probe(lib, s, 'RSAES_OAEP_SHA_256');
        expect(oaep).toMatchObject({ supported: false });
        expect((oaep as { reason: string }).reason).toMatch(/does not report the length/);
      });
    });

    it('imports AES-256 material (RSA-3072 and RSA-4096 pairs): KCV matches, key is sensitive and non-extractable, the pair is gone, and the adapter wraps with it', async () => {
      const provider = new Pkcs11KeyProvider(config());
      try {
        for (const spec of ['RSA_3072', 'RSA_4096'] as const) {
          const label = fresh('imported');
          const p = await params(importer(), label, spec);
          expect(createPublicKey(p.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(spec === 'RSA_4096' ? 4096 : 3072);
          expect(admin.count(pairLabel(p.importToken))).toBe(2);
          const material = randomBytes(32);
          const imported = await importing(importer(), label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(p.publicKeyPem, material) });
          expect(imported).toMatchObject({ sizeBits: 256, fingerprint: aesKeyCheckValue(material) });
          expect(admin.count(pairLabel(p.importToken))).toBe(0);
          expect(admin.count(label)).toBe(1);

          const [sensitive, extractable, isPrivate, isToken, encrypt, decrypt, wrap, unwrap, derive] = admin.flags(label, pkcs11js.CKO_SECRET_KEY, [
            pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_PRIVATE, pkcs11js.CKA_TOKEN, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_WRAP, pkcs11js.CKA_UNWRAP, pkcs11js.CKA_DERIVE,
          ]);
          expect({ sensitive, extractable, isPrivate, isToken, encrypt, decrypt, wrap, unwrap, derive }).toEqual({
            sensitive: true, extractable: false, isPrivate: true, isToken: true, encrypt: true, decrypt: true, wrap: false, unwrap: false, derive: false,
          });
          const value = admin.attribute(label, pkcs11js.CKO_SECRET_KEY, pkcs11js.CKA_VALUE);
          expect(value).toBeInstanceOf(Error);
          expect(String((value as Error).message)).toContain('CKR_ATTRIBUTE_SENSITIVE');

          const described = await provider.describeKey(refFor(label));
          expect(described).toMatchObject({ algorithm: 'AES', state: 'enabled', fingerprint: aesKeyCheckValue(material) });
          // The token holds the customer's bytes: the adapter's AES-GCM ciphertext opens with them.
          const aad = Buffer.from('tenant-1');
          const { ciphertext } = await provider.wrap(refFor(label), Buffer.from('l2 key'), aad);
          const decipher = createDecipheriv('aes-256-gcm', material, ciphertext.subarray(0, 12));
          decipher.setAAD(aad);
          decipher.setAuthTag(ciphertext.subarray(-16));
          expect(Buffer.concat([decipher.update(ciphertext.subarray(12, -16)), decipher.final()]).toString()).toBe('l2 key');
          expect((await provider.proofOfPossession(refFor(label))).ok).toBe(true);
        }
      } finally {
        await provider.close();
      }
    }, 60_000);

    it('generates the import pair on the token: private half sensitive, non-extractable, unwrap only, not modifiable; CKA_END_DATE is the expiry day', async () => {
      clock = Date.UTC(2030, 4, 17, 23, 59, 0);
      try {
        const p = await params(importer('sha1', 30_000), fresh('pair-check'));
        expect(p.expiresAt.toISOString()).toBe('2030-05-17T23:59:30.000Z');
        const label = pairLabel(p.importToken);
        const [sensitive, extractable, unwrap, decrypt, sign, modifiable] = admin.flags(label, pkcs11js.CKO_PRIVATE_KEY, [
          pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_UNWRAP, pkcs11js.CKA_DECRYPT, pkcs11js.CKA_SIGN, pkcs11js.CKA_MODIFIABLE,
        ]);
        expect({ sensitive, extractable, unwrap, decrypt, sign, modifiable }).toEqual({ sensitive: true, extractable: false, unwrap: true, decrypt: false, sign: false, modifiable: false });
        expect(String(admin.attribute(label, pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKA_END_DATE))).toBe('20300517');
        expect(admin.attribute(label, pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKA_ID)).toEqual(Buffer.from(p.importToken, 'hex'));
        admin.destroy(label);
      } finally {
        clock = Date.now();
      }
    });

    it('refuses expired parameters to the second (rule expired) and destroys their pair', async () => {
      const label = fresh('expiring');
      clock = Date.now();
      const imp = importer('sha1', 1000);
      const p = await params(imp, label);
      const material = { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(p.publicKeyPem, randomBytes(32)) };
      clock = p.expiresAt.getTime();
      await refusal(importing(imp, label, material), 'expired');
      expect(admin.count(pairLabel(p.importToken))).toBe(0);
      expect(admin.count(label)).toBe(0);
      clock = Date.now();
    });

    it("refuses another pair's token, an edited token, a wrong algorithm and a reused token (rule mismatch); the right token still imports", async () => {
      const a = fresh('target-a');
      const b = fresh('target-b');
      const imp = importer();
      const pa = await params(imp, a);
      const pb = await params(imp, b);
      const materialA = wrapSha1(pa.publicKeyPem, randomBytes(32));
      await refusal(importing(imp, a, { importToken: pb.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(pb.publicKeyPem, randomBytes(32)) }), 'mismatch');
      const later = Buffer.from(pa.importToken, 'hex');
      later.writeBigUInt64BE(later.readBigUInt64BE(3) + 3600n, 3);
      await refusal(importing(imp, a, { importToken: later.toString('hex'), wrappingAlgorithm: kwp, wrappedKeyMaterial: materialA }), 'mismatch');
      await refusal(importing(imp, a, { importToken: pa.importToken, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedKeyMaterial: materialA }), 'mismatch');
      await refusal(importing(imp, a, { importToken: 'not-a-token', wrappingAlgorithm: kwp, wrappedKeyMaterial: materialA }), 'mismatch');
      expect(admin.count(pairLabel(pa.importToken))).toBe(2);

      await importing(imp, a, { importToken: pa.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: materialA });
      const again = fresh('target-a-again');
      await refusal(importing(imp, again, { importToken: pa.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: materialA }), 'mismatch');
      expect(admin.count(b)).toBe(0);
      admin.destroy(pairLabel(pb.importToken));
    });

    it('refuses a label already taken (rule state), both for new parameters and at import time', async () => {
      const taken = admin.createAesKey({ label: fresh('taken') });
      await refusal(params(importer(), taken.label), 'state');

      const label = fresh('raced');
      const imp = importer();
      const p = await params(imp, label);
      admin.createAesKey({ label });
      await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(p.publicKeyPem, randomBytes(32)) }), 'state');
      expect(admin.count(label)).toBe(1);
      admin.destroy(pairLabel(p.importToken));
    });

    it('refuses corrupted and short-key blobs (corrupted, key-size) without leaving an object behind; the parameters stay usable', async () => {
      const label = fresh('picky');
      const imp = importer();
      const p = await params(imp, label);
      const before = admin.countAll();
      const good = wrapSha1(p.publicKeyPem, randomBytes(32));
      for (const at of [10, good.length - 5]) {
        const bad = Buffer.from(good);
        bad[at] ^= 0x40;
        await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: bad }), 'corrupted');
      }
      await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: Buffer.alloc(0) }), 'corrupted');
      await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: good.subarray(0, good.length - 8) }), 'corrupted');
      const other = await params(imp, fresh('elsewhere'));
      await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(other.publicKeyPem, randomBytes(32)) }), 'corrupted');
      admin.destroy(pairLabel(other.importToken));
      for (const bytes of [16, 24, 31]) {
        await refusal(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(p.publicKeyPem, randomBytes(bytes)) }), 'key-size');
      }
      expect(admin.countAll()).toBe(before);
      const material = randomBytes(32);
      const imported = await importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial: wrapSha1(p.publicKeyPem, material) });
      expect(imported.fingerprint).toBe(aesKeyCheckValue(material));
    }, 60_000);

    it('the SHA-256 blobs customers make (byok-wrap) are what the adapter would hand the token: SoftHSM2 refuses them as a mechanism it lacks, never as corrupted', async () => {
      const label = fresh('sha256-blob');
      const imp = importer('sha256');
      const p = await params(imp, label);
      const wrappedKeyMaterial = wrapKeyMaterialForImport({ publicKeyPem: p.publicKeyPem, wrappingAlgorithm: kwp, keyMaterial: randomBytes(32) });
      const e = await failure(importing(imp, label, { importToken: p.importToken, wrappingAlgorithm: kwp, wrappedKeyMaterial }));
      expect(e).toBeInstanceOf(UnsupportedOperationError);
      expect((e as UnsupportedOperationError).details.providerCode).toBe('CKR_ARGUMENTS_BAD');
      expect(admin.count(label)).toBe(0);
      admin.destroy(pairLabel(p.importToken));
    });
  });
});
