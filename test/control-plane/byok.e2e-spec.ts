/**
 * BYOK end to end through the control plane and the CLI, against the Azure Key Vault keys API DOUBLE (Managed HSM
 * BYOK: key_hsm with CKM_RSA_AES_KEY_WRAP layout). The customer wraps their key material offline with
 * `cmk byok wrap`; CMK passes the wrapped blob to the provider and records the fingerprint, never the material.
 * (SoftHSM2 cannot take part: it only unwraps RSA-OAEP with SHA-1.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { runCli } from '../../apps/cli/src/program';
import { aesKeyCheckValue, wrapKeyMaterialForImport } from '@cmk/key-providers';
import { AzureKeyVaultDouble } from '../doubles/azure-keyvault';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, tenantBody } from './fixtures';

const SECRET = randomBytes(24).toString('base64url');
let vault: AzureKeyVaultDouble;
let cp: TestControlPlane;
let token: string;
const dir = mkdtempSync(join(tmpdir(), 'cmk-byok-'));

beforeAll(async () => {
  vault = await AzureKeyVaultDouble.start({ clients: [{ clientId: 'cmk-control-plane', clientSecret: SECRET, role: 'all' }] });
  process.env.CMK_TEST_BYOK_TENANT = vault.tenantId;
  process.env.CMK_TEST_BYOK_CLIENT = 'cmk-control-plane';
  process.env.CMK_TEST_BYOK_SECRET = SECRET;
  cp = await startTestControlPlane({
    azure: {
      vaultUrls: [vault.vaultUrl],
      tenantId: 'env:CMK_TEST_BYOK_TENANT',
      clientId: 'env:CMK_TEST_BYOK_CLIENT',
      clientSecret: 'env:CMK_TEST_BYOK_SECRET',
      tokenEndpoint: `${vault.vaultUrl}/{tenant}/oauth2/v2.0/token`,
      caPem: vault.caPem,
      disableChallengeResourceVerification: true,
    },
  });
  token = await cp.token(ALL);
}, 60_000);

afterAll(async () => {
  await cp?.close();
  await vault?.stop();
});

async function cmk(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--json', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CMK_URL: cp.url, CMK_TOKEN: token },
    fetch: globalThis.fetch,
  });
  return { code, stderr, json: stdout ? JSON.parse(stdout) : undefined };
}

const storedEvents = async (keyLinkId: string) => cp.running.infra.store.readStream(`keylink-${keyLinkId}`);

describe('BYOK', () => {
  it('imports key material wrapped offline by the customer, records only its fingerprint, then proves possession and activates', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
    const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
      token,
      body: { providerKind: 'azure-keyvault', mode: 'BYOK', keyReference: `${vault.vaultUrl}/keys/byok-${tenantId.slice(0, 8)}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
    });
    expect(link.status).toBe(201);
    const keyLinkId = link.body.id as string;
    const early = await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('byok.material-not-imported');

    // The operator gets import parameters (saved to a file), the customer wraps offline.
    const paramsFile = join(dir, 'params.json');
    const params = await cmk('links', 'import-params', keyLinkId, '--wrapping-algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-key-spec', 'RSA_3072', '--out', paramsFile);
    expect(params.code).toBe(0);
    const saved = JSON.parse(readFileSync(paramsFile, 'utf8'));
    expect(saved).toMatchObject({ keyLinkId, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072', publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY') });
    const material = randomBytes(32);
    writeFileSync(join(dir, 'key.hex'), material.toString('hex'));
    const wrapped = await cmk('byok', 'wrap', '--params', paramsFile, '--key', join(dir, 'key.hex'), '--format', 'hex', '--out', join(dir, 'wrapped.bin'));
    expect(wrapped.code).toBe(0);
    expect(wrapped.json.keyCheckValue).toBe(aesKeyCheckValue(material));

    // Refusals change nothing: a corrupted blob, a token never issued for this link.
    const corrupted = Buffer.from(readFileSync(join(dir, 'wrapped.bin')));
    corrupted[corrupted.length - 5] ^= 0x10;
    const before = (await storedEvents(keyLinkId)).length;
    const bad = await cp.call('POST', `/v1/key-links/${keyLinkId}/import`, { token, body: { importToken: saved.importToken, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: corrupted.toString('base64') } });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: expect.stringMatching(/^byok\.(corrupted|mismatch)$/) });
    const unknown = await cp.call('POST', `/v1/key-links/${keyLinkId}/import`, { token, body: { importToken: 'not-issued-here', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: corrupted.toString('base64') } });
    expect(unknown.status).toBe(409);
    expect(unknown.body.code).toBe('byok.import-token-unknown');
    expect((await storedEvents(keyLinkId)).length).toBe(before);

    // A fresh set of parameters (a refused import may have used the first one up) and the real import.
    const fresh = await cmk('links', 'import-params', keyLinkId, '--wrapping-algorithm', 'RSA_AES_KEY_WRAP_SHA_256', '--wrapping-key-spec', 'RSA_4096', '--out', paramsFile);
    expect(fresh.code).toBe(0);
    expect((await cmk('byok', 'wrap', '--params', paramsFile, '--key', join(dir, 'key.hex'), '--format', 'hex', '--out', join(dir, 'wrapped.bin'))).code).toBe(0);
    const imported = await cmk('links', 'import', keyLinkId, '--params', paramsFile, '--wrapped', join(dir, 'wrapped.bin'));
    expect(imported).toMatchObject({ code: 0, json: { events: ['KeyMaterialImported'] } });
    const again = await cp.call('POST', `/v1/key-links/${keyLinkId}/import`, { token, body: { importToken: saved.importToken, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappedKeyMaterial: corrupted.toString('base64') } });
    expect(again.body.code).toBe('byok.already-imported');

    expect((await cmk('links', 'activate', keyLinkId)).json.events).toEqual(['KeyPossessionProven', 'KeyLinkActivated']);
    const events = await storedEvents(keyLinkId);
    expect(events.map((e) => e.type)).toEqual(['KeyLinked', 'KeyImportParametersIssued', 'KeyImportParametersIssued', 'KeyMaterialImported', 'KeyPossessionProven', 'KeyLinkActivated']);
    const everything = JSON.stringify(events.map(({ type, data, metadata }) => ({ type, data, metadata })));
    for (const secret of [material.toString('hex'), material.toString('base64'), readFileSync(join(dir, 'wrapped.bin')).toString('base64')]) expect(everything).not.toContain(secret);
    const fingerprint = (events[3].data as { fingerprint: string }).fingerprint;
    expect(fingerprint).toMatch(/^(kcv:[0-9a-f]{6}|keyversion:sha256:[0-9a-f]{64})$/);
  });

  it('refuses import parameters for HYOK links and unknown wrapping algorithms, creating nothing at the provider', async () => {
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) });
    const hyok = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, {
      token,
      body: { providerKind: 'azure-keyvault', mode: 'HYOK', keyReference: `${vault.vaultUrl}/keys/nothing-${tenantId.slice(0, 8)}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
    });
    const requestsBefore = vault.requests.length;
    const refused = await cp.call('POST', `/v1/key-links/${hyok.body.id}/import-parameters`, { token, body: { wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_3072' } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('byok.not-byok');
    const badAlg = await cp.call('POST', `/v1/key-links/${hyok.body.id}/import-parameters`, { token, body: { wrappingAlgorithm: 'RSAES_PKCS1_V1_5', wrappingKeySpec: 'RSA_2048' } });
    expect(badAlg.status).toBe(400);
    expect(badAlg.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['wrappingAlgorithm', 'wrappingKeySpec']);
    expect(vault.requests.length).toBe(requestsBefore);
    // The customer's wrapping tool refuses weak wrapping keys before anything is written.
    expect(() => wrapKeyMaterialForImport({ publicKeyPem: 'not a key', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', keyMaterial: randomBytes(32) })).toThrow();
  });
});
