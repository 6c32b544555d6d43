import { constants, createPublicKey, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  CreateKeyCommandInput,
  DecryptCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import {
  haltLocalKms,
  LocalKms,
  localKmsClient,
  missingLocalKmsKeyArn,
  restartLocalKms,
  startLocalKms,
  stopLocalKms,
} from '@cmk/testing/local-kms';
import { keyVersionFingerprint, publicKeyFingerprint } from '../byok/byok-wrap';
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
import type { KeyProviderLogger } from '../key-provider.logger';
import { describeKeyProviderContract } from '../testing/key-provider.contract';
import { AwsKmsKeyProvider } from './aws-kms-key-provider.adapter';
import { AwsKmsKeyProviderConfig } from './aws-kms-key-provider.config';
import { startKmsHttpDouble, startSilentEndpoint } from './testing/kms-http-double';

/**
 * Runs against local-kms (github.com/nsmithuk/local-kms, the AWS KMS emulator, built from the Go module proxy by
 * deploy/local/local-kms.sh) on a free port. When it cannot be built or started, beforeAll throws and every test
 * here fails: nothing is skipped. Failures local-kms cannot produce (throttling, refused credentials, a hung
 * endpoint) run against a protocol-level double speaking the KMS JSON protocol, named as such in the titles.
 */
const STANDIN = 'local-kms (AWS KMS emulator, go install from the module proxy)';
const ACCESS_KEY_ID = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
const SECRET_ACCESS_KEY = randomBytes(30).toString('base64');
const SECRETS = [ACCESS_KEY_ID, SECRET_ACCESS_KEY];

let kms: LocalKms;
let admin: KMSClient;
let aesArn: string;
let aliasArn: string;
let aliasTargetArn: string;

const config = (extra: Partial<AwsKmsKeyProviderConfig> = {}): AwsKmsKeyProviderConfig => ({
  region: kms.region,
  endpoint: kms.endpoint,
  credentials: { accessKeyId: 'env:CMK_TEST_AWS_ACCESS_KEY_ID', secretAccessKey: 'env:CMK_TEST_AWS_SECRET_ACCESS_KEY' },
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 100,
  ...extra,
});

async function createKey(input: CreateKeyCommandInput = {}): Promise<string> {
  const out = await admin.send(new CreateKeyCommand(input));
  return out.KeyMetadata!.Arn!;
}

async function createAlias(targetArn: string): Promise<string> {
  const name = `alias/cmk-${randomUUID()}`;
  await admin.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: targetArn }));
  return `arn:aws:kms:${kms.region}:${kms.accountId}:${name}`;
}

function capturingLogger(): KeyProviderLogger & { lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
  };
}

async function failure(promise: Promise<unknown>): Promise<KeyProviderError> {
  const e = await promise.then(
    () => new Error('expected a failure, but the call succeeded'),
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(KeyProviderError);
  return e as KeyProviderError;
}

function everything(error: unknown): string {
  const e = error as KeyProviderError;
  return [String(e), e.message, e.stack ?? '', JSON.stringify(e), JSON.stringify(e.details ?? {})].join('\n');
}

beforeAll(async () => {
  process.env.CMK_TEST_AWS_ACCESS_KEY_ID = ACCESS_KEY_ID;
  process.env.CMK_TEST_AWS_SECRET_ACCESS_KEY = SECRET_ACCESS_KEY;
  kms = await startLocalKms();
  admin = localKmsClient(kms);
  aesArn = await createKey();
  aliasTargetArn = await createKey();
  aliasArn = await createAlias(aliasTargetArn);
}, 180_000);

afterAll(async () => {
  admin?.destroy();
  if (kms) await stopLocalKms(kms);
});

describeKeyProviderContract(`AWS KMS adapter against ${STANDIN}`, async () => ({
  provider: new AwsKmsKeyProvider(config()),
  keys: [
    { name: 'SYMMETRIC_DEFAULT by key ARN', ref: aesArn, algorithm: 'AES', sizeBits: 256 },
    { name: 'SYMMETRIC_DEFAULT by alias ARN', ref: aliasArn, algorithm: 'AES', sizeBits: 256 },
  ],
  missingKeyRef: missingLocalKmsKeyArn(kms),
  // No byok: local-kms issues only RSA_2048 wrapping keys (the port asks for RSA_3072/4096) and has no
  // RSA_AES_KEY_WRAP_SHA_256. The import step itself is tested below with RSA_2048 parameters.
  scratchKey: () => createKey(),
  admin: {
    disable: async (ref) => void (await admin.send(new DisableKeyCommand({ KeyId: ref }))),
    enable: async (ref) => void (await admin.send(new EnableKeyCommand({ KeyId: ref }))),
  },
  // local-kms has no RotateKeyOnDemand (it answers 501): rotateKey must report UnsupportedOperationError.
  rotates: false,
}));

describe(`AWS KMS adapter on ${STANDIN}`, () => {
  let provider: AwsKmsKeyProvider;
  beforeAll(() => {
    provider = new AwsKmsKeyProvider(config());
  });
  afterAll(() => provider.close());

  describe('references', () => {
    it('refuses bare ids, bare aliases, AWS-managed aliases and malformed ARNs before any request (the endpoint is down)', async () => {
      const offline = new AwsKmsKeyProvider(config({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 }));
      const keyId = aesArn.split('/')[1];
      const bad = [
        keyId,
        'alias/tenant-7',
        `arn:aws:kms:${kms.region}:${kms.accountId}:alias/aws/ebs`,
        `arn:aws:kms:${kms.region}:${kms.accountId}:key/not-a-uuid`,
        `arn:aws:kms:${kms.region}:12345:key/${keyId}`,
        `arn:aws:s3:${kms.region}:${kms.accountId}:key/${keyId}`,
        `arn:aws:kms::${kms.accountId}:key/${keyId}`,
        `${aesArn} `,
        SECRET_ACCESS_KEY,
      ];
      try {
        for (const ref of bad) {
          for (const call of [offline.describeKey(ref), offline.wrap(ref, randomBytes(32)), offline.unwrap(ref, randomBytes(64))]) {
            const e = await failure(call);
            expect({ ref, error: e }).toEqual({ ref, error: expect.any(InvalidKeyReferenceError) });
            expect(everything(e)).not.toContain(SECRET_ACCESS_KEY);
          }
        }
      } finally {
        await offline.close();
      }
    });

    it('serves a key by alias ARN, pins unwrap to the alias target, and refuses old ciphertexts once the alias is re-pointed', async () => {
      const first = await createKey();
      const second = await createKey();
      const alias = await createAlias(first);
      const { ciphertext } = await provider.wrap(alias, Buffer.from('under first'), Buffer.from('t'));
      expect((await provider.unwrap(first, ciphertext, Buffer.from('t'))).toString()).toBe('under first');
      expect((await provider.describeKey(alias)).fingerprint).toBe((await provider.describeKey(first)).fingerprint);
      await admin.send(new UpdateAliasCommand({ AliasName: alias.split(':').pop()!, TargetKeyId: second }));
      await expect(provider.unwrap(alias, ciphertext, Buffer.from('t'))).rejects.toBeInstanceOf(InvalidCiphertextError);
      expect((await provider.unwrap(first, ciphertext, Buffer.from('t'))).toString()).toBe('under first');
    });

    it('reports a key ARN of another region or account as KeyNotFoundError (the emulator serves one region and account)', async () => {
      const keyId = aesArn.split('/')[1];
      await expect(provider.describeKey(`arn:aws:kms:us-west-2:${kms.accountId}:key/${keyId}`)).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(provider.wrap(`arn:aws:kms:${kms.region}:999999999999:key/${keyId}`, randomBytes(8))).rejects.toBeInstanceOf(KeyNotFoundError);
    });
  });

  describe('encryption context and ciphertext format', () => {
    it('binds the aad as encryption context {"cmk:aad": base64(aad)}: KMS itself decrypts the blob only with that context', async () => {
      const aad = randomBytes(20);
      const plaintext = randomBytes(32);
      const { ciphertext, algorithm } = await provider.wrap(aesArn, plaintext, aad);
      expect(algorithm).toBe('AWS_KMS_SYMMETRIC_DEFAULT');
      expect(ciphertext[0]).toBe(0x01);
      const blob = ciphertext.subarray(17);
      const raw = await admin.send(new DecryptCommand({ KeyId: aesArn, CiphertextBlob: blob, EncryptionContext: { 'cmk:aad': aad.toString('base64') } }));
      expect(Buffer.from(raw.Plaintext!)).toEqual(plaintext);
      await expect(admin.send(new DecryptCommand({ KeyId: aesArn, CiphertextBlob: blob, EncryptionContext: { 'cmk:aad': randomBytes(20).toString('base64') } }))).rejects.toMatchObject({
        name: 'InvalidCiphertextException',
      });
      await expect(admin.send(new DecryptCommand({ KeyId: aesArn, CiphertextBlob: blob }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    });

    it('treats an empty aad as no aad', async () => {
      const { ciphertext } = await provider.wrap(aesArn, Buffer.from('x'), Buffer.alloc(0));
      expect((await provider.unwrap(aesArn, ciphertext)).toString()).toBe('x');
    });

    it('refuses plaintexts KMS cannot take (empty, over 4096 bytes) with UnsupportedOperationError, without echoing them', async () => {
      const big = Buffer.alloc(4097, 'S');
      for (const plaintext of [Buffer.alloc(0), big]) {
        const e = await failure(provider.wrap(aesArn, plaintext));
        expect(e).toBeInstanceOf(UnsupportedOperationError);
        expect(everything(e)).not.toContain('SSSSSSSS');
      }
      const { ciphertext } = await provider.wrap(aesArn, Buffer.alloc(4096, 7));
      expect((await provider.unwrap(aesArn, ciphertext)).equals(Buffer.alloc(4096, 7))).toBe(true);
    });
  });

  describe('key states and descriptions', () => {
    it('describes a symmetric key: AES-256, the region as location, the key ARN as version (local-kms reports no key material id)', async () => {
      const d = await provider.describeKey(aesArn);
      expect(d).toEqual({
        ref: aesArn,
        algorithm: 'AES',
        sizeBits: 256,
        state: 'enabled',
        location: kms.region,
        version: aesArn,
        fingerprint: keyVersionFingerprint(`${aesArn}#${aesArn}`),
      });
    });

    it('a key pending deletion is destroyed: wrap, unwrap and proof of possession fail with KeyDisabledError', async () => {
      const ref = await createKey();
      const { ciphertext } = await provider.wrap(ref, randomBytes(32));
      const before = await provider.describeKey(ref);
      await admin.send(new ScheduleKeyDeletionCommand({ KeyId: ref, PendingWindowInDays: 7 }));
      const after = await provider.describeKey(ref);
      expect(after.state).toBe('destroyed');
      expect(after.fingerprint).toBe(before.fingerprint);
      await expect(provider.wrap(ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(provider.unwrap(ref, ciphertext)).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(provider.proofOfPossession(ref)).rejects.toBeInstanceOf(KeyDisabledError);
    });

    it('a disabled key is reported before a malformed ciphertext is blamed', async () => {
      const ref = await createKey();
      await admin.send(new DisableKeyCommand({ KeyId: ref }));
      await expect(provider.unwrap(ref, randomBytes(80))).rejects.toBeInstanceOf(KeyDisabledError);
    });

    it('a key created for import (Origin EXTERNAL) is pending-import and cannot wrap yet', async () => {
      const ref = await createKey({ Origin: 'EXTERNAL' });
      expect((await provider.describeKey(ref)).state).toBe('pending-import');
      await expect(provider.wrap(ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
    });

    it('describes an RSA key by the SHA-256 of its SPKI, and refuses to wrap with a signing key (InvalidKeyUsageException)', async () => {
      const rsa = await createKey({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' });
      const spki = (await admin.send(new GetPublicKeyCommand({ KeyId: rsa }))).PublicKey!;
      const d = await provider.describeKey(rsa);
      expect(d).toMatchObject({ algorithm: 'RSA', sizeBits: 3072, state: 'enabled' });
      expect(d.fingerprint).toBe(publicKeyFingerprint(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })));
      const signing = await createKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
      const e = await failure(provider.wrap(signing, randomBytes(32)));
      expect(e).toBeInstanceOf(UnsupportedOperationError);
      expect(e.details.providerCode).toBe('InvalidKeyUsageException');
    });

    it('reports local-kms lacking RotateKeyOnDemand (HTTP 501) as UnsupportedOperationError', async () => {
      const e = await failure(provider.rotateKey(await createKey()));
      expect(e).toBeInstanceOf(UnsupportedOperationError);
      expect(e.details).toMatchObject({ operation: 'rotateKey', providerCode: 'HTTP 501' });
    });
  });

  describe('BYOK', () => {
    /** local-kms issues RSA_2048 wrapping keys only; the test wraps as a customer tool would (RSA-OAEP-SHA-256). */
    async function rsa2048Parameters(ref: string) {
      const p = await admin.send(new GetParametersForImportCommand({ KeyId: ref, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      const publicKey = createPublicKey({ key: Buffer.from(p.PublicKey!), format: 'der', type: 'spki' });
      return {
        importToken: Buffer.from(p.ImportToken!).toString('base64'),
        wrap: (material: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material),
      };
    }
    const importing = (ref: string, importToken: string, wrappedKeyMaterial: Buffer) =>
      provider.importKeyMaterial(ref, { importToken, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedKeyMaterial });
    const rule = async (promise: Promise<unknown>) => {
      const e = await failure(promise);
      expect(e).toBeInstanceOf(ImportRefusedError);
      return (e as ImportRefusedError).rule;
    };

    it('imports AES-256 material into a PendingImport key, after refusing other tokens, corrupted blobs and short keys', async () => {
      const target = await createKey({ Origin: 'EXTERNAL' });
      const other = await rsa2048Parameters(await createKey({ Origin: 'EXTERNAL' }));
      const params = await rsa2048Parameters(target);
      expect(await rule(importing(target, other.importToken, params.wrap(randomBytes(32))))).toBe('mismatch');
      const corrupted = params.wrap(randomBytes(32));
      corrupted[100] ^= 0x01;
      expect(await rule(importing(target, params.importToken, corrupted))).toBe('corrupted');
      expect(await rule(importing(target, params.importToken, other.wrap(randomBytes(32))))).toBe('corrupted');
      expect(await rule(importing(target, params.importToken, params.wrap(randomBytes(16))))).toBe('key-size');
      expect((await provider.describeKey(target)).state).toBe('pending-import');

      const imported = await importing(target, params.importToken, params.wrap(randomBytes(32)));
      expect(imported).toMatchObject({ ref: target, algorithm: 'AES', sizeBits: 256, state: 'enabled' });
      expect((await provider.describeKey(target)).fingerprint).toBe(imported.fingerprint);
      const { ciphertext } = await provider.wrap(target, Buffer.from('l2 key'), Buffer.from('aad'));
      expect((await provider.unwrap(target, ciphertext, Buffer.from('aad'))).toString()).toBe('l2 key');
      expect(await rule(importing(target, params.importToken, params.wrap(randomBytes(32))))).toBe('state');
    });

    it('refuses import into keys that do not await material (AWS_KMS origin, pending deletion) with rule state', async () => {
      const native = await createKey();
      expect(await rule(importing(native, Buffer.from('token').toString('base64'), randomBytes(256)))).toBe('state');
      const doomed = await createKey({ Origin: 'EXTERNAL' });
      const params = await rsa2048Parameters(doomed);
      await admin.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 }));
      expect(await rule(importing(doomed, params.importToken, params.wrap(randomBytes(32))))).toBe('state');
    });

    it('reports RSA_3072/RSA_4096 wrapping keys, and import parameters for a non-EXTERNAL key, as unsupported by local-kms', async () => {
      const external = await createKey({ Origin: 'EXTERNAL' });
      for (const wrappingKeySpec of ['RSA_3072', 'RSA_4096'] as const) {
        const e = await failure(provider.getImportParameters(external, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec }));
        expect(e).toBeInstanceOf(UnsupportedOperationError);
        expect(e.details.providerCode).toBe('ValidationException');
      }
      await expect(provider.getImportParameters(aesArn, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' })).rejects.toBeInstanceOf(
        UnsupportedOperationError,
      );
    });
  });

  describe('availability', () => {
    it('with the emulator stopped mid-run: wrap fails with ProviderUnavailableError after maxAttempts jittered tries; it recovers when the emulator is back', async () => {
      let outage = await startLocalKms();
      const setup = localKmsClient(outage);
      const ref = (await setup.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      setup.destroy();
      const logger = capturingLogger();
      const resilient = new AwsKmsKeyProvider(config({ endpoint: outage.endpoint, maxAttempts: 4, retryBaseDelayMs: 40, retryMaxDelayMs: 200, logger }));
      try {
        const { ciphertext } = await resilient.wrap(ref, Buffer.from('before the outage'));
        await haltLocalKms(outage);
        const started = Date.now();
        const e = await failure(resilient.wrap(ref, randomBytes(32)));
        const elapsed = Date.now() - started;
        expect(e).toBeInstanceOf(ProviderUnavailableError);
        expect(e.retryable).toBe(true);
        expect(e.details.providerCode).toBe('ECONNREFUSED');
        const retries = logger.lines.filter((l) => l.msg.startsWith('transient AWS KMS failure'));
        expect(retries.map((l) => l.obj.attempt)).toEqual([1, 2, 3]);
        retries.forEach((l, i) => {
          expect(l.obj.delayMs).toBeGreaterThanOrEqual(0);
          expect(l.obj.delayMs).toBeLessThan(Math.min(200, 40 * 2 ** i));
        });
        expect(elapsed).toBeLessThan(5_000);
        expect(logger.lines.some((l) => l.msg === 'AWS KMS unavailable: giving up')).toBe(true);
        expect((await resilient.health()).healthy).toBe(false);
        await expect(resilient.unwrap(ref, ciphertext)).rejects.toBeInstanceOf(ProviderUnavailableError);

        outage = await restartLocalKms(outage);
        expect((await resilient.unwrap(ref, ciphertext)).toString()).toBe('before the outage');
        expect((await resilient.health()).healthy).toBe(true);
        expect(JSON.stringify(logger.lines)).not.toContain(SECRET_ACCESS_KEY);
      } finally {
        await resilient.close();
        await stopLocalKms(outage);
      }
    });

    it('against a protocol double answering ThrottlingException: Encrypt is tried maxAttempts times, GetParametersForImport and ImportKeyMaterial once', async () => {
      const double = await startKmsHttpDouble(() => ({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } }));
      const throttled = new AwsKmsKeyProvider(config({ endpoint: double.endpoint, maxAttempts: 3 }));
      try {
        const e = await failure(throttled.wrap(aesArn, randomBytes(32)));
        expect(e).toBeInstanceOf(ProviderUnavailableError);
        expect(e.details.providerCode).toBe('ThrottlingException');
        expect(double.requests.map((r) => r.operation)).toEqual(['Encrypt', 'Encrypt', 'Encrypt']);
        double.requests.length = 0;
        await expect(throttled.getImportParameters(aesArn, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' })).rejects.toBeInstanceOf(
          ProviderUnavailableError,
        );
        expect(double.requests.map((r) => r.operation)).toEqual(['GetParametersForImport']);
      } finally {
        await throttled.close();
        await double.close();
      }
    });

    it('against a protocol double answering 503: describeKey is retried and then ProviderUnavailableError', async () => {
      const double = await startKmsHttpDouble(() => ({ status: 503, body: { __type: 'KMSInternalException' } }));
      const failing = new AwsKmsKeyProvider(config({ endpoint: double.endpoint, maxAttempts: 2 }));
      try {
        await expect(failing.describeKey(aesArn)).rejects.toBeInstanceOf(ProviderUnavailableError);
        expect(double.requests).toHaveLength(2);
      } finally {
        await failing.close();
        await double.close();
      }
    });

    it('against an endpoint that accepts connections and never answers: the request timeout ends each attempt', async () => {
      const silent = await startSilentEndpoint();
      const hung = new AwsKmsKeyProvider(config({ endpoint: silent.endpoint, requestTimeoutMs: 150, maxAttempts: 2 }));
      try {
        const started = Date.now();
        const e = await failure(hung.wrap(aesArn, randomBytes(32)));
        expect(e).toBeInstanceOf(ProviderUnavailableError);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(silent.connections()).toBeGreaterThanOrEqual(2);
      } finally {
        await hung.close();
        await silent.close();
      }
    });
  });

  describe('credentials', () => {
    it('signs with the credentials the references resolve to, and reads them again after credentialRefreshMs', async () => {
      const double = await startKmsHttpDouble(() => ({ status: 200, body: { Keys: [], Truncated: false } }));
      const refreshing = new AwsKmsKeyProvider(
        config({ endpoint: double.endpoint, credentials: { accessKeyId: 'env:CMK_TEST_ROTATING_KEY_ID', secretAccessKey: 'env:CMK_TEST_AWS_SECRET_ACCESS_KEY' }, credentialRefreshMs: 400 }),
      );
      try {
        process.env.CMK_TEST_ROTATING_KEY_ID = 'AKIAFIRSTFIRSTFIRST1';
        expect((await refreshing.health()).healthy).toBe(true);
        process.env.CMK_TEST_ROTATING_KEY_ID = 'AKIASECONDSECONDSEC2';
        expect((await refreshing.health()).healthy).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect((await refreshing.health()).healthy).toBe(true);
        const used = double.requests.map((r) => /Credential=([A-Z0-9]+)\//.exec(r.authorization)?.[1]);
        expect(used).toEqual(['AKIAFIRSTFIRSTFIRST1', 'AKIAFIRSTFIRSTFIRST1', 'AKIASECONDSECONDSEC2']);
        expect(double.requests.every((r) => !r.authorization.includes(SECRET_ACCESS_KEY))).toBe(true);
      } finally {
        await refreshing.close();
        await double.close();
        delete process.env.CMK_TEST_ROTATING_KEY_ID;
      }
    });

    it('maps refused credentials (protocol double: UnrecognizedClientException) to AccessDeniedError, not retried, health unhealthy', async () => {
      const double = await startKmsHttpDouble(() => ({ status: 400, body: { __type: 'UnrecognizedClientException', message: `The security token ${ACCESS_KEY_ID} is invalid` } }));
      const refused = new AwsKmsKeyProvider(config({ endpoint: double.endpoint, maxAttempts: 3 }));
      try {
        const e = await failure(refused.wrap(aesArn, randomBytes(32)));
        expect(e).toBeInstanceOf(AccessDeniedError);
        expect(e.details.providerCode).toBe('UnrecognizedClientException');
        expect(double.requests).toHaveLength(1);
        for (const secret of SECRETS) expect(everything(e)).not.toContain(secret);
        const health = await refused.health();
        expect(health.healthy).toBe(false);
        expect(health.reason).toContain('UnrecognizedClientException');
        for (const secret of SECRETS) expect(health.reason).not.toContain(secret);
      } finally {
        await refused.close();
        await double.close();
      }
    });

    it('never puts a credential in errors or log lines: unset reference, unknown key, disabled key, bad ciphertext, outage', async () => {
      const logger = capturingLogger();
      const disabled = await createKey();
      const { ciphertext } = await provider.wrap(disabled, randomBytes(32));
      await admin.send(new DisableKeyCommand({ KeyId: disabled }));
      const logged = new AwsKmsKeyProvider(config({ logger }));
      const unset = new AwsKmsKeyProvider(config({ logger, credentials: { accessKeyId: 'env:CMK_TEST_AWS_ACCESS_KEY_ID', secretAccessKey: 'env:CMK_TEST_NOT_SET_SECRET' } }));
      const down = new AwsKmsKeyProvider(config({ logger, endpoint: 'http://127.0.0.1:9', maxAttempts: 2 }));
      const attempts: Array<[string, () => Promise<unknown>, new (...args: never[]) => KeyProviderError]> = [
        ['credential reference not set', () => unset.wrap(aesArn, randomBytes(32)), AccessDeniedError],
        ['unknown key', () => logged.describeKey(missingLocalKmsKeyArn(kms)), KeyNotFoundError],
        ['disabled key', () => logged.unwrap(disabled, ciphertext), KeyDisabledError],
        ['tampered ciphertext', () => logged.unwrap(aesArn, Buffer.concat([Buffer.from([1]), randomBytes(140)])), InvalidCiphertextError],
        ['endpoint down', () => down.wrap(aesArn, randomBytes(32)), ProviderUnavailableError],
      ];
      try {
        for (const [what, attempt, type] of attempts) {
          const e = await attempt().then(
            () => new Error(`${what}: expected a failure`),
            (error: unknown) => error,
          );
          expect({ what, e }).toEqual({ what, e: expect.any(type) });
          for (const secret of SECRETS) expect(everything(e)).not.toContain(secret);
        }
        expect(logger.lines.length).toBeGreaterThan(0);
        const log = JSON.stringify(logger.lines);
        for (const secret of SECRETS) expect(log).not.toContain(secret);
        expect((await unset.health()).reason).toContain('env:CMK_TEST_NOT_SET_SECRET');
      } finally {
        await Promise.all([logged.close(), unset.close(), down.close()]);
      }
    });

    it('refuses a credential given instead of a reference, without echoing it', () => {
      let error: unknown;
      try {
        new AwsKmsKeyProvider(config({ credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } }));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidProviderConfigError);
      expect((error as InvalidProviderConfigError).setting).toBe('CMK_AWS_KMS_ACCESS_KEY_ID_REF');
      for (const secret of SECRETS) expect(String((error as Error).message)).not.toContain(secret);
    });
  });
});
