import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import type { CallOptions } from 'google-gax';
import { DoubleAuth, doubleClient, GcpKmsDouble } from '../../../../test/doubles/gcp-kms';
import { keyVersionFingerprint, wrapKeyMaterialForImport } from '../byok/byok-wrap';
import {
  AccessDeniedError,
  ImportRefusedError,
  InvalidCiphertextError,
  InvalidKeyReferenceError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';
import { describeKeyProviderContract } from '../testing/key-provider.contract';
import { GcpKmsKeyProvider } from './gcp-kms-key-provider.adapter';
import { GcpKmsKeyProviderConfig } from './gcp-kms-key-provider.config';

/**
 * Runs against the Cloud KMS gRPC DOUBLE (test/doubles/gcp-kms): KeyManagementService served in this process by
 * @grpc/grpc-js from the protos @google-cloud/kms ships. Google publishes no KMS emulator and Cloud KMS cannot be
 * reached here. If the double cannot start, beforeAll throws and every test fails; nothing is skipped.
 */
const STANDIN = 'the Cloud KMS gRPC DOUBLE (in process, built from @google-cloud/kms protos)';
const PROJECT = 'cmk-double-proj';
const LOCATION = 'europe-west3';
const RING = `projects/${PROJECT}/locations/${LOCATION}/keyRings/cmk-${randomBytes(4).toString('hex')}`;
const OTHER_RING = `projects/${PROJECT}/locations/${LOCATION}/keyRings/other-${randomBytes(4).toString('hex')}`;

let double: GcpKmsDouble;
let admin: KeyManagementServiceClient;
let adminOptions: CallOptions;
let dir: string;
let saKeyJson: string;
let saKeyPath: string;
let accessToken: string;
const secrets: string[] = [];
const logger = capturingLogger();
const opened: GcpKmsKeyProvider[] = [];

function capturingLogger(): KeyProviderLogger & { lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  return { lines, info: (obj, msg) => lines.push({ level: 'info', obj, msg }), warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }) };
}

function config(extra: Partial<GcpKmsKeyProviderConfig> = {}, on: GcpKmsDouble = double): GcpKmsKeyProviderConfig {
  return {
    project: PROJECT,
    location: LOCATION,
    apiEndpoint: on.host,
    port: on.port,
    insecure: true,
    credentials: { serviceAccountKey: `file:${saKeyPath}` },
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 200,
    logger,
    ...extra,
  };
}

function provider(extra: Partial<GcpKmsKeyProviderConfig> = {}, on?: GcpKmsDouble): GcpKmsKeyProvider {
  const p = new GcpKmsKeyProvider(config(extra, on));
  opened.push(p);
  return p;
}

async function createKey(options: { hsm?: boolean; importOnly?: boolean } = {}): Promise<string> {
  const [key] = await admin.createCryptoKey(
    {
      parent: RING,
      cryptoKeyId: `k-${randomUUID().slice(0, 8)}`,
      cryptoKey: {
        purpose: 'ENCRYPT_DECRYPT',
        importOnly: options.importOnly ?? false,
        versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: options.hsm ? 'HSM' : 'SOFTWARE' },
      },
      skipInitialVersionCreation: options.importOnly ?? false,
    },
    adminOptions,
  );
  if (options.hsm && !options.importOnly) {
    // HSM versions are generated asynchronously; a customer waits for ENABLED before using the key.
    for (let i = 0; i < 100; i++) {
      const [k] = await admin.getCryptoKey({ name: key.name! }, adminOptions);
      if (k.primary?.state === 'ENABLED') break;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return key.name!;
}

/** What a customer does in their console to disable or enable a key: every version that can change state. */
async function setKeyState(ref: string, state: 'ENABLED' | 'DISABLED'): Promise<void> {
  const [versions] = await admin.listCryptoKeyVersions({ parent: ref }, { ...adminOptions, autoPaginate: false });
  for (const version of versions.filter((v) => v.state === 'ENABLED' || v.state === 'DISABLED')) {
    await admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: version.name, state }, updateMask: { paths: ['state'] } }, adminOptions);
  }
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

function expectNoSecrets(text: string): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/Bearer|eyJ[A-Za-z0-9_-]{10,}|PRIVATE KEY/);
}

beforeAll(async () => {
  double = await GcpKmsDouble.start();
  dir = mkdtempSync(join(tmpdir(), 'cmk-gcp-kms-'));
  saKeyJson = double.auth.createServiceAccountKey(`cmk-worker@${PROJECT}.iam.gserviceaccount.com`, [PROJECT]);
  saKeyPath = join(dir, 'sa.json');
  writeFileSync(saKeyPath, saKeyJson);
  chmodSync(saKeyPath, 0o600);
  accessToken = double.auth.issueAccessToken('cmk-admin', [PROJECT]);
  const parsed = JSON.parse(saKeyJson) as { private_key: string; private_key_id: string };
  secrets.push(accessToken, parsed.private_key_id, ...parsed.private_key.split('\n').filter((l) => l.length > 40));
  ({ client: admin, options: adminOptions } = doubleClient(double, accessToken));
  await admin.createKeyRing({ parent: `projects/${PROJECT}/locations/${LOCATION}`, keyRingId: RING.split('/').pop()! }, adminOptions);
  await admin.createKeyRing({ parent: `projects/${PROJECT}/locations/${LOCATION}`, keyRingId: OTHER_RING.split('/').pop()! }, adminOptions);
}, 60_000);

afterAll(async () => {
  for (const p of opened) await p.close();
  await admin?.close();
  await double?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Nothing the adapters logged in this file carries a credential.
  expectNoSecrets(JSON.stringify(logger.lines));
});

describeKeyProviderContract(`Cloud KMS adapter against ${STANDIN}`, async () => ({
  provider: new GcpKmsKeyProvider(config()),
  keys: [
    { name: 'GOOGLE_SYMMETRIC_ENCRYPTION, SOFTWARE', ref: await createKey(), algorithm: 'AES', sizeBits: 256 },
    { name: 'GOOGLE_SYMMETRIC_ENCRYPTION, HSM', ref: await createKey({ hsm: true }), algorithm: 'AES', sizeBits: 256 },
  ],
  missingKeyRef: `${RING}/cryptoKeys/no-such-key`,
  byok: {
    newImportTarget: () => createKey({ hsm: true, importOnly: true }),
    wrappingAlgorithms: ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'],
  },
  scratchKey: () => createKey(),
  admin: { disable: (ref) => setKeyState(ref, 'DISABLED'), enable: (ref) => setKeyState(ref, 'ENABLED') },
  rotates: true,
}));

describe(`Cloud KMS adapter on ${STANDIN}`, () => {
  let kms: GcpKmsKeyProvider;
  let key: string;
  beforeAll(async () => {
    kms = provider();
    key = await createKey();
  });

  describe('reference validation', () => {
    it.each([
      '',
      `${RING}/cryptoKeys/k/cryptoKeyVersions/1`,
      `${RING}/cryptoKeys/`,
      'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      `${RING}/cryptoKeys/${'k'.repeat(64)}`,
    ])('refuses %p with InvalidKeyReferenceError before calling Cloud KMS', async (ref) => {
      const before = double.calls.length;
      for (const call of [
        kms.describeKey(ref),
        kms.wrap(ref, randomBytes(32)),
        kms.unwrap(ref, randomBytes(60)),
        kms.rotateKey(ref),
        kms.getImportParameters(ref, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' }),
      ]) {
        expect(await failure(call)).toBeInstanceOf(InvalidKeyReferenceError);
      }
      expect(double.calls.length).toBe(before);
    });
  });

  describe('the wire: Google-documented fields', () => {
    it('sends a bearer token per call and describes the key by its primary version (location = the region)', async () => {
      const described = await kms.describeKey(key);
      const sent = double.callsOf('GetCryptoKey').at(-1);
      const [cryptoKey] = await admin.getCryptoKey({ name: key }, adminOptions);
      expect(described).toEqual({
        ref: key,
        algorithm: 'AES',
        sizeBits: 256,
        state: 'enabled',
        location: LOCATION,
        version: '1',
        fingerprint: keyVersionFingerprint(cryptoKey.primary!.name!),
      });
      // A self-signed service-account JWT (header.claims.signature), not the key itself.
      expect(sent?.authorization).toMatch(/^Bearer eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{300,}$/);
    });

    it('wraps with Encrypt on the CryptoKey and unwraps with the raw Decrypt too (the ciphertext is the service one behind a version byte)', async () => {
      const aad = Buffer.from('tenant-42');
      const { ciphertext, algorithm } = await kms.wrap(key, Buffer.from('l2 key material'), aad);
      expect(algorithm).toBe('GCP_KMS_GOOGLE_SYMMETRIC_ENCRYPTION');
      expect(ciphertext[0]).toBe(0x01);
      const [raw] = await admin.decrypt({ name: key, ciphertext: ciphertext.subarray(1), additionalAuthenticatedData: aad }, adminOptions);
      expect(Buffer.from(raw.plaintext as Uint8Array).toString()).toBe('l2 key material');
    });
  });

  describe('CRC32C end-to-end integrity (corruption injected in the DOUBLE)', () => {
    it('detects a ciphertext changed in transit, retries, and returns a ciphertext that unwraps', async () => {
      double.corruptNext(1, { method: 'Encrypt', what: 'ciphertext' });
      const before = double.callsOf('Encrypt').length;
      const { ciphertext } = await kms.wrap(key, Buffer.from('intact'), Buffer.from('a'));
      expect(double.callsOf('Encrypt').length - before).toBe(2);
      expect((await kms.unwrap(key, ciphertext, Buffer.from('a'))).toString()).toBe('intact');
    });

    it.each([
      ['Encrypt', 'ciphertext'],
      ['Encrypt', 'checksum'],
      ['Encrypt', 'unverified'],
      ['Decrypt', 'plaintext'],
      ['Decrypt', 'checksum'],
    ] as const)('reports a persistent %s %s mismatch as ProviderUnavailableError (CRC32C_MISMATCH), never as data', async (method, what) => {
      const { ciphertext } = await kms.wrap(key, Buffer.from('payload'));
      double.corruptNext(3, { method, what });
      const before = double.callsOf(method).length;
      const call = method === 'Encrypt' ? kms.wrap(key, Buffer.from('payload')) : kms.unwrap(key, ciphertext);
      const error = await failure(call);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.details.providerCode).toBe('CRC32C_MISMATCH');
      expect(double.callsOf(method).length - before).toBe(3);
    });

    it('treats the service rejecting our request checksum (INVALID_ARGUMENT on *_crc32c) as transient, not as a bad ciphertext', async () => {
      const { ciphertext } = await kms.wrap(key, Buffer.from('checked'));
      double.failNext(1, { method: 'Decrypt', code: GrpcStatus.INVALID_ARGUMENT, details: 'The checksum in field ciphertext_crc32c did not match the data in field ciphertext.' });
      expect((await kms.unwrap(key, ciphertext)).toString()).toBe('checked');
    });

    it('reports a ciphertext changed at rest (checksums consistent, authentication fails at the service) as InvalidCiphertextError', async () => {
      const { ciphertext } = await kms.wrap(key, randomBytes(32));
      const changed = Buffer.from(ciphertext);
      changed[changed.length - 5] ^= 0x01;
      const before = double.callsOf('Decrypt').length;
      expect(await failure(kms.unwrap(key, changed))).toBeInstanceOf(InvalidCiphertextError);
      expect(double.callsOf('Decrypt').length - before).toBe(1);
    });
  });

  describe('transient faults (UNAVAILABLE injected in the DOUBLE)', () => {
    it('retries UNAVAILABLE with jittered exponential back-off, then reports ProviderUnavailableError', async () => {
      const retryLog = capturingLogger();
      const p = provider({ maxAttempts: 4, retryBaseDelayMs: 40, retryMaxDelayMs: 60, logger: retryLog });
      double.failNext(4, { method: 'Encrypt', code: GrpcStatus.UNAVAILABLE });
      const before = double.callsOf('Encrypt').length;
      const error = await failure(p.wrap(key, randomBytes(32)));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ providerCode: 'UNAVAILABLE', operation: 'wrap', keyRef: key });
      const attempts = double.callsOf('Encrypt').slice(before);
      expect(attempts.map((c) => c.code)).toEqual([GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE, GrpcStatus.UNAVAILABLE]);
      const retries = retryLog.lines.filter((l) => l.msg.includes('retrying'));
      expect(retries.map((l) => l.obj.attempt)).toEqual([1, 2, 3]);
      // Full jitter under ceilings of 40, 60 (capped), 60 ms; each pause really happened before the next attempt.
      retries.forEach((l, i) => {
        expect(l.obj.delayMs as number).toBeLessThan([40, 60, 60][i]);
        expect(attempts[i + 1].at - attempts[i].at).toBeGreaterThanOrEqual((l.obj.delayMs as number) - 2);
      });
      expect(retryLog.lines.some((l) => l.msg.includes('giving up'))).toBe(true);
    });

    it('recovers when UNAVAILABLE clears within the attempts, and the client library adds no retries of its own', async () => {
      double.failNext(2, { method: 'Decrypt', code: GrpcStatus.UNAVAILABLE });
      const { ciphertext } = await kms.wrap(key, Buffer.from('after outage'));
      expect((await kms.unwrap(key, ciphertext)).toString()).toBe('after outage');
      const once = provider({ maxAttempts: 1 });
      double.failNext(1, { method: 'GetCryptoKey', code: GrpcStatus.UNAVAILABLE });
      const before = double.callsOf('GetCryptoKey').length;
      expect(await failure(once.describeKey(key))).toBeInstanceOf(ProviderUnavailableError);
      expect(double.callsOf('GetCryptoKey').length - before).toBe(1);
    });

    it('never retries an import, an import job or a new version', async () => {
      const target = await createKey({ importOnly: true, hsm: true });
      double.failNext(1, { method: 'CreateImportJob', code: GrpcStatus.UNAVAILABLE });
      let before = double.callsOf('CreateImportJob').length;
      expect(await failure(kms.getImportParameters(target, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' }))).toBeInstanceOf(ProviderUnavailableError);
      expect(double.callsOf('CreateImportJob').length - before).toBe(1);

      const params = await kms.getImportParameters(target, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' });
      const wrappedKeyMaterial = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', keyMaterial: randomBytes(32) });
      double.failNext(1, { method: 'ImportCryptoKeyVersion', code: GrpcStatus.UNAVAILABLE });
      before = double.callsOf('ImportCryptoKeyVersion').length;
      const error = await failure(kms.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedKeyMaterial }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(double.callsOf('ImportCryptoKeyVersion').length - before).toBe(1);

      const rotating = await createKey();
      double.failNext(1, { method: 'CreateCryptoKeyVersion', code: GrpcStatus.UNAVAILABLE });
      before = double.callsOf('CreateCryptoKeyVersion').length;
      expect(await failure(kms.rotateKey(rotating))).toBeInstanceOf(ProviderUnavailableError);
      expect(double.callsOf('CreateCryptoKeyVersion').length - before).toBe(1);
    });

    it('reports a DOUBLE that is down (connection refused) as ProviderUnavailableError after its attempts, and health as unhealthy', async () => {
      const down = await GcpKmsDouble.start();
      const p = provider({ maxAttempts: 2, requestTimeoutMs: 2_000 }, down);
      await down.stop();
      const started = Date.now();
      const error = await failure(p.describeKey(key));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(error.details.providerCode).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5_000);
      const health = await p.health();
      expect(health.healthy).toBe(false);
      expect(health.reason).toMatch(/unavailable/i);
    });
  });

  describe('disabled versions, purpose and rotation', () => {
    it('refuses a ciphertext of a disabled older version with KeyDisabledError while the key itself is enabled', async () => {
      const ref = await createKey();
      const old = await kms.wrap(ref, Buffer.from('v1 data'));
      await kms.rotateKey(ref);
      await admin.updateCryptoKeyVersion({ cryptoKeyVersion: { name: `${ref}/cryptoKeyVersions/1`, state: 'DISABLED' }, updateMask: { paths: ['state'] } }, adminOptions);
      expect((await kms.describeKey(ref)).state).toBe('enabled');
      const error = await failure(kms.unwrap(ref, old.ciphertext));
      expect(error).toBeInstanceOf(KeyDisabledError);
      expect(error.details.providerCode).toBe('FAILED_PRECONDITION');
      const fresh = await kms.wrap(ref, Buffer.from('v2 data'));
      expect((await kms.unwrap(ref, fresh.ciphertext)).toString()).toBe('v2 data');
    });

    it('rotates an HSM key: waits for the new version to be generated, makes it primary, and the fingerprint follows', async () => {
      const ref = await createKey({ hsm: true });
      const before = await kms.describeKey(ref);
      const old = await kms.wrap(ref, Buffer.from('under v1'), Buffer.from('x'));
      const polls = double.callsOf('GetCryptoKeyVersion').length;
      const rotated = await kms.rotateKey(ref);
      expect(rotated).toMatchObject({ state: 'enabled', version: '2' });
      expect(rotated.fingerprint).toBe(keyVersionFingerprint(`${ref}/cryptoKeyVersions/2`));
      expect(rotated.fingerprint).not.toBe(before.fingerprint);
      // The new HSM version was PENDING_GENERATION at first: the adapter polled it before making it primary.
      expect(double.callsOf('GetCryptoKeyVersion').length - polls).toBeGreaterThanOrEqual(2);
      expect((await kms.unwrap(ref, old.ciphertext, Buffer.from('x'))).toString()).toBe('under v1');
    });

    it('refuses to rotate an import-only key with UnsupportedOperationError (new material means a new import)', async () => {
      const ref = await createKey({ importOnly: true });
      expect(await failure(kms.rotateKey(ref))).toBeInstanceOf(UnsupportedOperationError);
    });

    it('describes an import target awaiting material as pending-import, and refuses to wrap with it', async () => {
      const ref = await createKey({ importOnly: true, hsm: true });
      expect(await kms.describeKey(ref)).toMatchObject({ state: 'pending-import', algorithm: 'AES', sizeBits: 256, fingerprint: 'unavailable' });
      expect(await failure(kms.wrap(ref, randomBytes(32)))).toBeInstanceOf(KeyDisabledError);
    });
  });

  describe('BYOK refusals', () => {
    const algorithm = 'RSA_AES_KEY_WRAP_SHA_256' as const;

    it("refuses material for an import job that expired with ImportRefusedError 'expired'; fresh parameters then import", async () => {
      const target = await createKey({ importOnly: true, hsm: true });
      const params = await kms.getImportParameters(target, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' });
      const material = randomBytes(32);
      const wrapped = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: material });
      double.store.expireImportJob(params.importToken);
      const before = double.callsOf('ImportCryptoKeyVersion').length;
      const refused = await failure(kms.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial: wrapped }));
      expect(refused).toBeInstanceOf(ImportRefusedError);
      expect((refused as ImportRefusedError).rule).toBe('expired');
      expect(double.callsOf('ImportCryptoKeyVersion').length).toBe(before);
      expect((await kms.describeKey(target)).state).toBe('pending-import');

      const fresh = await kms.getImportParameters(target, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' });
      const imported = await kms.importKeyMaterial(target, {
        importToken: fresh.importToken,
        wrappingAlgorithm: algorithm,
        wrappedKeyMaterial: wrapKeyMaterialForImport({ publicKeyPem: fresh.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: material }),
      });
      expect(imported).toMatchObject({ state: 'enabled', version: '1', fingerprint: keyVersionFingerprint(`${target}/cryptoKeyVersions/1`) });
    });

    it("refuses an import token of another key ring, or one declared under the other algorithm, with 'mismatch' before importing", async () => {
      const target = await createKey({ importOnly: true, hsm: true });
      const params = await kms.getImportParameters(target, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' });
      const wrappedKeyMaterial = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: randomBytes(32) });
      const before = double.callsOf('ImportCryptoKeyVersion').length;
      const foreign = params.importToken.replace(RING, OTHER_RING);
      for (const attempt of [
        { importToken: foreign, wrappingAlgorithm: algorithm, wrappedKeyMaterial },
        { importToken: params.importToken, wrappingAlgorithm: 'RSAES_OAEP_SHA_256' as const, wrappedKeyMaterial },
        { importToken: `${RING}/importJobs/never-created`, wrappingAlgorithm: algorithm, wrappedKeyMaterial },
      ]) {
        const refused = await failure(kms.importKeyMaterial(target, attempt));
        expect(refused).toBeInstanceOf(ImportRefusedError);
        expect((refused as ImportRefusedError).rule).toBe('mismatch');
      }
      expect(double.callsOf('ImportCryptoKeyVersion').length).toBe(before);
    });

    it("refuses to import into a key that already holds material with 'state', and getImportParameters for it with UnsupportedOperationError", async () => {
      const params = await kms.getImportParameters(await createKey({ importOnly: true, hsm: true }), { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' });
      const wrappedKeyMaterial = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: randomBytes(32) });
      const holding = await createKey({ hsm: true });
      const refused = await failure(kms.importKeyMaterial(holding, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial }));
      expect((refused as ImportRefusedError).rule).toBe('state');
      expect(await failure(kms.getImportParameters(holding, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' }))).toBeInstanceOf(UnsupportedOperationError);
    });
  });

  describe('credentials', () => {
    it('maps PERMISSION_DENIED (a valid identity without a role on the project) to AccessDeniedError; health still counts it as reachable', async () => {
      const outsider = double.auth.issueAccessToken('outsider', ['some-other-project']);
      secrets.push(outsider);
      const p = provider({ credentials: { accessToken: 'env:CMK_TEST_GCP_OUTSIDER_TOKEN' }, credentialResolver: { resolve: async () => outsider } });
      const error = await failure(p.wrap(key, randomBytes(32)));
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(error.details.providerCode).toBe('PERMISSION_DENIED');
      expect((await p.health()).healthy).toBe(true);
      expectNoSecrets(everything(error));
    });

    it('maps UNAUTHENTICATED (a service-account key the service does not know) to AccessDeniedError, and health to unhealthy', async () => {
      const stranger = new DoubleAuth().createServiceAccountKey(`stranger@${PROJECT}.iam.gserviceaccount.com`, [PROJECT]);
      const strangerPath = join(dir, 'stranger.json');
      writeFileSync(strangerPath, stranger);
      secrets.push(...(JSON.parse(stranger) as { private_key: string }).private_key.split('\n').filter((l) => l.length > 40));
      const p = provider({ credentials: { serviceAccountKey: `file:${strangerPath}` } });
      const error = await failure(p.describeKey(key));
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(error.details.providerCode).toBe('UNAUTHENTICATED');
      expect(await p.health()).toMatchObject({ healthy: false });
      expectNoSecrets(everything(error));
    });

    it('reads a rotated access-token file again after UNAUTHENTICATED', async () => {
      const tokenPath = join(dir, 'token');
      const first = double.auth.issueAccessToken('rotating', [PROJECT]);
      secrets.push(first);
      writeFileSync(tokenPath, `${first}\n`);
      const p = provider({ credentials: { accessToken: `file:${tokenPath}` }, credentialRefreshMs: 1_800_000 });
      await p.describeKey(key);
      double.auth.revokeAccessToken(first);
      const second = double.auth.issueAccessToken('rotating', [PROJECT]);
      secrets.push(second);
      writeFileSync(tokenPath, `${second}\n`);
      expect(await failure(p.describeKey(key))).toBeInstanceOf(AccessDeniedError);
      expect((await p.describeKey(key)).state).toBe('enabled');
      expect(double.callsOf('GetCryptoKey').at(-1)?.authorization).toBe(`Bearer ${second}`);
    });

    it('never echoes a credential or the provider text: not from a bad key file, not from an error message that quotes one', async () => {
      const badPath = join(dir, 'not-a-key.json');
      writeFileSync(badPath, `{"type":"service_account","client_email":"x@y.z","private_key":"${accessToken}"}`);
      const bad = await failure(provider({ credentials: { serviceAccountKey: `file:${badPath}` } }).describeKey(key));
      expect(bad).toBeInstanceOf(AccessDeniedError);
      expectNoSecrets(everything(bad));

      const quoting = `Internal error near token ${accessToken} and ${secrets[2]}`;
      double.failNext(3, { method: 'Encrypt', code: GrpcStatus.INTERNAL, details: quoting });
      const internal = await failure(kms.wrap(key, randomBytes(32)));
      expect(internal).toBeInstanceOf(ProviderUnavailableError);
      expect(everything(internal)).not.toContain('Internal error near');
      expectNoSecrets(everything(internal));

      double.failNext(1, { method: 'Decrypt', code: GrpcStatus.PERMISSION_DENIED, details: quoting });
      const denied = await failure(kms.unwrap(key, (await kms.wrap(key, randomBytes(32))).ciphertext));
      expect(denied).toBeInstanceOf(AccessDeniedError);
      expectNoSecrets(everything(denied));
    });

    it('refuses to send a token over plain text to anything but loopback, and a pasted secret as configuration', () => {
      expect(() => new GcpKmsKeyProvider({ ...config(), apiEndpoint: 'kms.internal.example' })).toThrow(/CMK_GCP_KMS_INSECURE/);
      let message = '';
      try {
        new GcpKmsKeyProvider({ ...config(), credentials: { accessToken } });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/CMK_GCP_KMS_ACCESS_TOKEN_REF/);
      expectNoSecrets(message);
    });
  });

  it('reports NOT_FOUND for a key in a key ring that does not exist, and a missing key in every operation it names', async () => {
    const ref = `projects/${PROJECT}/locations/${LOCATION}/keyRings/nope/cryptoKeys/k`;
    expect(await failure(kms.describeKey(ref))).toBeInstanceOf(KeyNotFoundError);
    expect(await failure(kms.rotateKey(ref))).toBeInstanceOf(KeyNotFoundError);
    expect(await failure(kms.getImportParameters(ref, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096' }))).toBeInstanceOf(KeyNotFoundError);
  });
});
