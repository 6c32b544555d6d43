import { KeyClient } from '@azure/keyvault-keys';
import { constants, createDecipheriv, privateDecrypt, randomBytes } from 'node:crypto';
import { AzureKeyVaultDouble } from '../../../../test/doubles/azure-keyvault';
import { DefaultCredentialResolver } from '../credentials/credential-source';
import { wrapKeyMaterialForImport } from '../byok/byok-wrap';
import {
  AccessDeniedError,
  ImportRefusedError,
  InvalidKeyReferenceError,
  InvalidProviderConfigError,
  KeyDisabledError,
  KeyNotFoundError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { KeyProviderLogger } from '../key-provider.logger';
import { describeKeyProviderContract } from '../testing/key-provider.contract';
import { AzureKeyVaultKeyProvider } from './azure-keyvault-key-provider.adapter';
import { AzureKeyVaultKeyProviderConfig } from './azure-keyvault-key-provider.config';
import { ClientSecretTokenCredential } from './client-secret.credential';

/**
 * Runs against the Azure Key Vault keys REST API DOUBLE in test/doubles/azure-keyvault (HTTPS on 127.0.0.1 with a
 * self-signed certificate, plus an Entra ID token endpoint double): no Azure vault or emulator is reachable here.
 * When the double cannot start, beforeAll throws and every test fails; nothing is skipped.
 */
const SECRET = randomBytes(24).toString('base64url');
const READER_SECRET = randomBytes(24).toString('base64url');
const CLIENTS = [
  { clientId: 'cmk-worker', clientSecret: SECRET, role: 'all' as const },
  { clientId: 'cmk-reader', clientSecret: READER_SECRET, role: 'read' as const },
];
let double: AzureKeyVaultDouble;
let admin: KeyClient;
let vault: string;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++seq}`;
const nameOf = (ref: string) => new URL(ref).pathname.split('/')[2];

beforeAll(async () => {
  double = await AzureKeyVaultDouble.start({ clients: CLIENTS });
  vault = double.vaultUrl;
  process.env.CMK_TEST_AZURE_TENANT = double.tenantId;
  process.env.CMK_TEST_AZURE_CLIENT_ID = 'cmk-worker';
  process.env.CMK_TEST_AZURE_CLIENT_SECRET = SECRET;
  process.env.CMK_TEST_AZURE_READER_ID = 'cmk-reader';
  process.env.CMK_TEST_AZURE_READER_SECRET = READER_SECRET;
  process.env.CMK_TEST_AZURE_WRONG_SECRET = `${SECRET}x`;
  // The customer's own tooling at the vault: the SDK's KeyClient with the same client-credentials identity.
  admin = new KeyClient(vault, adminCredential(), { disableChallengeResourceVerification: true, tlsOptions: { ca: double.caPem }, serviceVersion: '7.5' });
  await Promise.all([
    admin.createOctKey('tenant-l1-aes', { keySize: 256, hsm: true }),
    admin.createOctKey('tenant-l1-aes-2', { keySize: 256, hsm: true }),
    admin.createRsaKey('tenant-l1-rsa', { keySize: 3072, hsm: true }),
  ]);
}, 60_000);

afterAll(async () => {
  await double?.stop();
});

function adminCredential(on = double): ClientSecretTokenCredential {
  return new ClientSecretTokenCredential({
    tenantId: 'env:CMK_TEST_AZURE_TENANT',
    clientId: 'env:CMK_TEST_AZURE_CLIENT_ID',
    clientSecret: 'env:CMK_TEST_AZURE_CLIENT_SECRET',
    tokenEndpoint: `${on.vaultUrl}/{tenant}/oauth2/v2.0/token`,
    resolver: new DefaultCredentialResolver(),
    caPem: on.caPem,
    timeoutMs: 5_000,
  });
}

const config = (extra: Partial<AzureKeyVaultKeyProviderConfig> = {}, on = double): AzureKeyVaultKeyProviderConfig => ({
  vaultUrls: [on.vaultUrl],
  tenantId: 'env:CMK_TEST_AZURE_TENANT',
  clientId: 'env:CMK_TEST_AZURE_CLIENT_ID',
  clientSecret: 'env:CMK_TEST_AZURE_CLIENT_SECRET',
  tokenEndpoint: `${on.vaultUrl}/{tenant}/oauth2/v2.0/token`,
  caPem: on.caPem,
  disableChallengeResourceVerification: true,
  baseDelayMs: 20,
  maxDelayMs: 200,
  ...extra,
});

function capturingLogger(): { logger: KeyProviderLogger; lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (obj: Record<string, unknown>, msg: string) => lines.push(JSON.stringify({ level, msg, ...obj }));
  return { logger: { info: push('info'), warn: push('warn') }, lines };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e as Error,
  );
}

describeKeyProviderContract('Azure Key Vault adapter against the Key Vault keys REST API DOUBLE (HTTPS, SDK 4.10, api-version 7.5)', async () => ({
  provider: new AzureKeyVaultKeyProvider(config()),
  keys: [
    { name: 'oct-HSM AES-256', ref: `${vault}/keys/tenant-l1-aes`, algorithm: 'AES', sizeBits: 256 },
    { name: 'oct-HSM AES-256 (second key)', ref: `${vault}/keys/tenant-l1-aes-2`, algorithm: 'AES', sizeBits: 256 },
    { name: 'RSA-HSM 3072 (RSA-OAEP-256 envelope)', ref: `${vault}/keys/tenant-l1-rsa`, algorithm: 'RSA', sizeBits: 3072 },
  ],
  missingKeyRef: `${vault}/keys/no-such-key`,
  byok: { newImportTarget: async () => `${vault}/keys/${unique('byok-target')}`, wrappingAlgorithms: ['RSA_AES_KEY_WRAP_SHA_256'] },
  scratchKey: async () => {
    const name = unique('scratch');
    await admin.createOctKey(name, { keySize: 256, hsm: true });
    return `${vault}/keys/${name}`;
  },
  admin: {
    disable: async (ref) => void (await admin.updateKeyProperties(nameOf(ref), { enabled: false })),
    enable: async (ref) => void (await admin.updateKeyProperties(nameOf(ref), { enabled: true })),
  },
  rotates: true,
}));

describe('Azure Key Vault adapter against the Key Vault REST API DOUBLE', () => {
  let provider: AzureKeyVaultKeyProvider;
  let captured: ReturnType<typeof capturingLogger>;
  beforeAll(() => {
    captured = capturingLogger();
    provider = new AzureKeyVaultKeyProvider(config({ logger: captured.logger }));
  });
  afterAll(() => provider.close());
  beforeEach(() => double.clearFaults());

  const aesRef = () => `${vault}/keys/tenant-l1-aes`;
  const calls = (pattern: RegExp, since: number) => double.requests.slice(since).filter((r) => pattern.test(r.path));

  describe('retries and error mapping', () => {
    it('honours a 429 Retry-After, then succeeds', async () => {
      await provider.wrap(aesRef(), randomBytes(32)); // token and key metadata in place
      const before = double.requests.length;
      double.failNext(1, { status: 429, code: 'Throttled', retryAfterSeconds: 1, path: /\/encrypt$/ });
      const { ciphertext } = await provider.wrap(aesRef(), Buffer.from('after throttling'), Buffer.from('aad'));
      const attempts = calls(/\/encrypt$/, before);
      expect(attempts.map((r) => r.status)).toEqual([429, 200]);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(990);
      expect((await provider.unwrap(aesRef(), ciphertext, Buffer.from('aad'))).toString()).toBe('after throttling');
      expect(captured.lines.some((l) => l.includes('"retryAfter":true') && l.includes('429 Throttled'))).toBe(true);
    });

    it('retries 5xx with growing back-off, then reports ProviderUnavailableError (retryable) after maxAttempts', async () => {
      const p = new AzureKeyVaultKeyProvider(config({ maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 1000 }));
      try {
        await p.wrap(aesRef(), randomBytes(32));
        const before = double.requests.length;
        double.failNext(10, { status: 503, code: 'ServiceUnavailable', path: /\/encrypt$/ });
        const error = await rejection(p.wrap(aesRef(), randomBytes(32)));
        expect(error).toBeInstanceOf(ProviderUnavailableError);
        expect((error as ProviderUnavailableError).retryable).toBe(true);
        expect((error as ProviderUnavailableError).details.providerCode).toBe('ServiceUnavailable');
        const attempts = calls(/\/encrypt$/, before);
        expect(attempts.map((r) => r.status)).toEqual([503, 503, 503, 503]);
        const gaps = attempts.slice(1).map((r, i) => r.at - attempts[i].at);
        // Jittered in [d/2, d] with d = 40, 80, 160 ms.
        expect(gaps[0]).toBeGreaterThanOrEqual(19);
        expect(gaps[2]).toBeGreaterThanOrEqual(79);
      } finally {
        await p.close();
      }
    });

    it('never retries an import: one PUT per call, even on 503', async () => {
      const target = `${vault}/keys/${unique('byok-503')}`;
      const params = await provider.getImportParameters(target, { wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' });
      const wrapped = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', keyMaterial: randomBytes(32) });
      const before = double.requests.length;
      double.failNext(1, { status: 503, code: 'ServiceUnavailable', path: new RegExp(`^/keys/${nameOf(target)}$`) });
      const error = await rejection(provider.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: wrapped }));
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect(double.requests.slice(before).filter((r) => r.method === 'PUT')).toHaveLength(1);
      const imported = await provider.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: wrapped });
      expect(imported.state).toBe('enabled');
    });

    it('maps 403 ForbiddenByRbac to AccessDeniedError (a reader identity cannot encrypt)', async () => {
      const reader = new AzureKeyVaultKeyProvider(config({ clientId: 'env:CMK_TEST_AZURE_READER_ID', clientSecret: 'env:CMK_TEST_AZURE_READER_SECRET' }));
      try {
        expect((await reader.describeKey(aesRef())).state).toBe('enabled');
        const error = await rejection(reader.wrap(aesRef(), randomBytes(32)));
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect((error as AccessDeniedError).details.providerCode).toBe('Forbidden/ForbiddenByRbac');
      } finally {
        await reader.close();
      }
    });

    it('maps a wrong client secret to AccessDeniedError with neither secret in the error or the logs', async () => {
      const { logger, lines } = capturingLogger();
      const p = new AzureKeyVaultKeyProvider(config({ clientSecret: 'env:CMK_TEST_AZURE_WRONG_SECRET', logger }));
      try {
        const before = double.requests.length;
        const error = await rejection(p.wrap(aesRef(), randomBytes(32)));
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect((error as AccessDeniedError).details.providerCode).toBe('invalid_client/AADSTS7000215');
        const told = [error.message, error.stack, JSON.stringify(error), JSON.stringify((error as AccessDeniedError).details), ...lines].join('\n');
        expect(told).not.toContain(SECRET);
        expect(told).not.toContain(process.env.CMK_TEST_AZURE_WRONG_SECRET);
        // Not retried: one token request, and nothing but the unauthenticated challenge reached the vault.
        expect(double.requests.slice(before).filter((r) => r.path.endsWith('/token'))).toHaveLength(1);
        expect((await p.health()).healthy).toBe(false);
      } finally {
        await p.close();
      }
    });

    it('keeps tokens and secrets out of the logs of a working provider', async () => {
      await provider.describeKey(aesRef());
      const told = captured.lines.join('\n');
      expect(told).not.toContain(SECRET);
      expect(told).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
    });

    it('reports a stand-in that is down as ProviderUnavailableError after retrying with back-off (ECONNREFUSED)', async () => {
      const other = await AzureKeyVaultDouble.start({ clients: CLIENTS, tenantId: double.tenantId });
      const { logger, lines } = capturingLogger();
      const p = new AzureKeyVaultKeyProvider(config({ logger, maxAttempts: 3 }, other));
      try {
        const key = await new KeyClient(other.vaultUrl, adminCredential(other), { disableChallengeResourceVerification: true, tlsOptions: { ca: other.caPem } }).createOctKey('down', { keySize: 256, hsm: true });
        const ref = `${other.vaultUrl}/keys/down`;
        const { ciphertext } = await p.wrap(ref, randomBytes(32));
        expect(key.name).toBe('down');
        await other.stop();
        const started = Date.now();
        const error = await rejection(p.unwrap(ref, ciphertext));
        expect(error).toBeInstanceOf(ProviderUnavailableError);
        expect((error as ProviderUnavailableError).details.providerCode).toBe('ECONNREFUSED');
        // The first attempt may meet the pooled keep-alive socket the double just dropped (ECONNRESET).
        const retries = lines.filter((l) => l.includes('retrying')).map((l) => JSON.parse(l) as { attempt: number; providerCode: string });
        expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
        expect(retries.every((r) => ['ECONNREFUSED', 'ECONNRESET'].includes(r.providerCode))).toBe(true);
        expect(Date.now() - started).toBeGreaterThanOrEqual(20);
        expect((await p.health()).healthy).toBe(false);
      } finally {
        await p.close();
        await other.stop();
      }
    });
  });

  describe('references', () => {
    it('refuses malformed references and vaults it is not configured for before sending anything', async () => {
      const before = double.requests.length;
      await expect(provider.wrap(`${vault}/secrets/x`, randomBytes(8))).rejects.toBeInstanceOf(InvalidKeyReferenceError);
      await expect(provider.describeKey(`${vault.replace('https', 'http')}/keys/x`)).rejects.toBeInstanceOf(InvalidKeyReferenceError);
      await expect(provider.describeKey(`${vault}/keys/x?api-version=7.5`)).rejects.toBeInstanceOf(InvalidKeyReferenceError);
      await expect(provider.wrap('https://attacker.example/keys/x', randomBytes(8))).rejects.toBeInstanceOf(KeyNotFoundError);
      expect(double.requests.length).toBe(before);
    });

    it('wraps under the pinned version of a versioned reference and refuses ciphertexts of other versions', async () => {
      const name = unique('pinned');
      const v1 = await admin.createOctKey(name, { keySize: 256, hsm: true });
      const pinned = `${vault}/keys/${name}/${v1.properties.version}`;
      await admin.rotateKey(name);
      const fromPinned = await provider.wrap(pinned, Buffer.from('v1'));
      expect((await provider.describeKey(pinned)).version).toBe(v1.properties.version);
      expect((await provider.unwrap(`${vault}/keys/${name}`, fromPinned.ciphertext)).toString()).toBe('v1');
      const current = await provider.wrap(`${vault}/keys/${name}`, Buffer.from('v2'));
      await expect(provider.unwrap(pinned, current.ciphertext)).rejects.toThrow(/was not produced by/);
      await expect(provider.rotateKey(pinned)).rejects.toBeInstanceOf(UnsupportedOperationError);
    });
  });

  describe('keys', () => {
    it('RSA path: an RSA-OAEP-256 envelope any implementation can open with the private key', async () => {
      const ref = `${vault}/keys/tenant-l1-rsa`;
      const plaintext = randomBytes(48);
      const aad = Buffer.from('tenant-42');
      const before = double.requests.length;
      const { ciphertext, algorithm } = await provider.wrap(ref, plaintext, aad);
      expect(algorithm).toBe('RSAES_OAEP_SHA_256+AES_256_GCM');
      expect(double.requests.slice(before).some((r) => r.path.endsWith('/wrapkey'))).toBe(true);
      const description = await provider.describeKey(ref);
      expect(description.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Layout: 0x01 | 0x02 | len | version | u16 len | wrapped (384) | iv | tag | body.
      expect([ciphertext[0], ciphertext[1]]).toEqual([0x01, 0x02]);
      const versionEnd = 3 + ciphertext[2];
      expect(ciphertext.subarray(3, versionEnd).toString()).toBe(description.version);
      const wrappedLength = ciphertext.readUInt16BE(versionEnd);
      expect(wrappedLength).toBe(384);
      const header = ciphertext.subarray(0, versionEnd + 2 + wrappedLength);
      const stored = double.keys.get('tenant-l1-rsa', description.version);
      const envelopeKey = privateDecrypt({ key: stored.privateKey!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, header.subarray(versionEnd + 2));
      const rest = ciphertext.subarray(header.length);
      const decipher = createDecipheriv('aes-256-gcm', envelopeKey, rest.subarray(0, 12));
      decipher.setAAD(Buffer.concat([header, aad]));
      decipher.setAuthTag(rest.subarray(12, 28));
      expect(Buffer.concat([decipher.update(rest.subarray(28)), decipher.final()])).toEqual(plaintext);
    });

    it('oct keys: A256GCM at the vault with the aad as additionalAuthenticatedData, fingerprint from the key version id', async () => {
      const plaintext = randomBytes(32);
      const aad = Buffer.from('tenant-7');
      const { ciphertext, algorithm } = await provider.wrap(aesRef(), plaintext, aad);
      expect(algorithm).toBe('AES_256_GCM');
      const description = await provider.describeKey(aesRef());
      expect(description.fingerprint).toMatch(/^keyversion:sha256:[0-9a-f]{64}$/);
      expect(description.location).toBe(vault);
      const versionEnd = 3 + ciphertext[2];
      const stored = double.keys.get('tenant-l1-aes', ciphertext.subarray(3, versionEnd).toString());
      const decipher = createDecipheriv('aes-256-gcm', stored.secret!, ciphertext.subarray(versionEnd, versionEnd + 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(versionEnd + 12, versionEnd + 28));
      expect(Buffer.concat([decipher.update(ciphertext.subarray(versionEnd + 28)), decipher.final()])).toEqual(plaintext);
    });

    it('reports a soft-deleted key as destroyed, and refuses to wrap under it with KeyDisabledError', async () => {
      const name = unique('deleted');
      await admin.createOctKey(name, { keySize: 256, hsm: true });
      const ref = `${vault}/keys/${name}`;
      await provider.describeKey(ref);
      await admin.beginDeleteKey(name);
      expect(await provider.describeKey(ref)).toMatchObject({ state: 'destroyed', algorithm: 'AES', sizeBits: 256 });
      await expect(provider.wrap(ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
    });
  });

  describe('BYOK (Managed HSM key_hsm transfer blob)', () => {
    const algorithm = 'RSA_AES_KEY_WRAP_SHA_256' as const;

    it('creates an import-only RSA-HSM KEK per request and sends key_hsm as the BYOK specification lays it out', async () => {
      const target = `${vault}/keys/${unique('byok-format')}`;
      const params = await provider.getImportParameters(target, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_4096' });
      const kek = await admin.getKey(nameOf(params.importToken));
      expect(kek.keyType).toBe('RSA-HSM');
      expect(kek.keyOperations).toEqual(['import']);
      expect(kek.properties.expiresOn?.getTime()).toBe(params.expiresAt.getTime());
      expect(kek.key?.n?.length).toBe(512);
      const wrapped = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: randomBytes(32) });
      const before = double.requests.length;
      await provider.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial: wrapped });
      const put = double.requests.slice(before).find((r) => r.method === 'PUT')!;
      const key = put.body!.key as Record<string, unknown>;
      expect(key).toMatchObject({ kty: 'oct-HSM', key_ops: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] });
      expect(put.body!.Hsm).toBe(true);
      const blob = JSON.parse(Buffer.from(key.key_hsm as string, 'base64url').toString('utf8'));
      expect(blob).toMatchObject({ schema_version: '1.0.0', header: { kid: params.importToken, alg: 'dir', enc: 'RSA_AES_KEY_WRAP_256' } });
      expect(Buffer.from(blob.ciphertext, 'base64url')).toEqual(wrapped);
      // The used KEK is deleted, so the token cannot import again.
      await expect(admin.getKey(nameOf(params.importToken))).rejects.toMatchObject({ statusCode: 404 });
      const again = await rejection(provider.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial: wrapped }));
      expect((again as ImportRefusedError).rule).toBe('mismatch');
    });

    it('refuses RSA-OAEP direct wrapping with UnsupportedOperationError naming the supported algorithm', async () => {
      const error = await rejection(provider.getImportParameters(`${vault}/keys/${unique('byok-oaep')}`, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' }));
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect(error.message).toContain('RSA_AES_KEY_WRAP_SHA_256');
    });

    it('refuses a token issued for another target (mismatch) and an expired KEK (expired)', async () => {
      const a = `${vault}/keys/${unique('byok-a')}`;
      const b = `${vault}/keys/${unique('byok-b')}`;
      const params = await provider.getImportParameters(a, { wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_3072' });
      const wrapped = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm: algorithm, keyMaterial: randomBytes(32) });
      const mismatch = await rejection(provider.importKeyMaterial(b, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial: wrapped }));
      expect((mismatch as ImportRefusedError).rule).toBe('mismatch');
      await admin.updateKeyProperties(nameOf(params.importToken), { expiresOn: new Date(Date.now() - 60_000) });
      const expired = await rejection(provider.importKeyMaterial(a, { importToken: params.importToken, wrappingAlgorithm: algorithm, wrappedKeyMaterial: wrapped }));
      expect((expired as ImportRefusedError).rule).toBe('expired');
      await expect(provider.describeKey(a)).rejects.toBeInstanceOf(KeyNotFoundError);
    });
  });

  describe('configuration', () => {
    it('names the bad setting and never echoes a pasted secret', () => {
      const pasted = 'p4ssw0rd-pasted-instead-of-a-reference';
      const error = (() => {
        try {
          new AzureKeyVaultKeyProvider(config({ clientSecret: pasted }));
        } catch (e) {
          return e as InvalidProviderConfigError;
        }
        throw new Error('expected a configuration error');
      })();
      expect(error).toBeInstanceOf(InvalidProviderConfigError);
      expect(error.setting).toBe('CMK_AZURE_CLIENT_SECRET_REF');
      expect(error.message).not.toContain(pasted);
      expect(() => new AzureKeyVaultKeyProvider(config({ vaultUrls: ['http://vault.example'] }))).toThrow(/CMK_AZURE_KEYVAULT_URLS/);
      expect(() => new AzureKeyVaultKeyProvider(config({ maxAttempts: 0 }))).toThrow(/CMK_AZURE_MAX_ATTEMPTS/);
    });
  });
});
