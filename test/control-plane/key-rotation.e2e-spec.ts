/**
 * The rotation scheduler on a real control plane: overdue keys are rotated where the provider can (the Azure Key
 * Vault keys API DOUBLE, reached through the azure-keyvault adapter as configured by CMK_KEY_PROVIDERS), and
 * recorded as due where it cannot (a real SoftHSM2 token: PKCS#11 has no key versions). A rotation started but
 * not recorded as done (a crash between the provider call and the append) is completed from the provider's
 * current version, never rotated twice. While one instance is in a round, another on the same database skips.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import { DefaultCredentialResolver } from '@cmk/key-providers';
import { ClientSecretTokenCredential } from '@cmk/key-providers/azure-keyvault';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { AzureKeyVaultDouble } from '../doubles/azure-keyvault';
import { KeyRotationScheduler } from '../../apps/control-plane/src/key-links/rotation-scheduler/key-rotation-scheduler';
import { Aggregates } from '../../apps/control-plane/src/shared/aggregates';
import { SchedulerLock } from '../../apps/control-plane/src/key-links/rotation-scheduler/scheduler-lock';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, tenantBody } from './fixtures';

const SECRET = randomBytes(24).toString('base64url');
const DAY = 86_400_000;
let vault: AzureKeyVaultDouble;
let admin: KeyClient;
let cp: TestControlPlane;
let token: string;

beforeAll(async () => {
  vault = await AzureKeyVaultDouble.start({ clients: [{ clientId: 'cmk-control-plane', clientSecret: SECRET, role: 'all' }] });
  process.env.CMK_TEST_AZ_TENANT = vault.tenantId;
  process.env.CMK_TEST_AZ_CLIENT = 'cmk-control-plane';
  process.env.CMK_TEST_AZ_SECRET = SECRET;
  const azure = {
    vaultUrls: [vault.vaultUrl],
    tenantId: 'env:CMK_TEST_AZ_TENANT',
    clientId: 'env:CMK_TEST_AZ_CLIENT',
    clientSecret: 'env:CMK_TEST_AZ_SECRET',
    tokenEndpoint: `${vault.vaultUrl}/{tenant}/oauth2/v2.0/token`,
    caPem: vault.caPem,
    disableChallengeResourceVerification: true,
  };
  cp = await startTestControlPlane({ azure });
  token = await cp.token(ALL);
  const credential = new ClientSecretTokenCredential({
    tenantId: 'env:CMK_TEST_AZ_TENANT', clientId: 'env:CMK_TEST_AZ_CLIENT', clientSecret: 'env:CMK_TEST_AZ_SECRET',
    tokenEndpoint: `${vault.vaultUrl}/{tenant}/oauth2/v2.0/token`, resolver: new DefaultCredentialResolver(), caPem: vault.caPem, timeoutMs: 5_000,
  });
  admin = new KeyClient(vault.vaultUrl, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: vault.caPem }, serviceVersion: '7.5' });
}, 60_000);

afterAll(async () => {
  await cp?.close();
  await vault?.stop();
});

const scheduler = () => cp.running.app.get(KeyRotationScheduler);
const types = async (keyLinkId: string) => (await cp.running.infra.store.readStream(keyLinkStream(keyLinkId))).map((e) => e.type);

async function activeLink(tenantId: string, body: Record<string, unknown>): Promise<string> {
  const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token, body: { mode: 'HYOK', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1', ...body } });
  expect(link.status).toBe(201);
  const activated = await cp.call('POST', `/v1/key-links/${link.body.id}/activate`, { token, body: {} });
  expect(activated.status).toBe(200);
  return link.body.id;
}

describe('rotation scheduler', () => {
  it('rotates overdue keys where the provider can, records the others as due once, and leaves young keys alone', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
    const name = `l1-${randomUUID().slice(0, 8)}`;
    await admin.createOctKey(name, { keySize: 256, hsm: true });
    const azureLink = await activeLink(tenantId, { providerKind: 'azure-keyvault', keyReference: `${vault.vaultUrl}/keys/${name}` });
    const hsmLink = await activeLink(tenantId, { providerKind: 'pkcs11', keyReference: 'pkcs11:token=acme;object=root-2026' });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name: `rotate-${tenantId}`, document: { rotation: { maxAgeDays: 30, warningDays: 7 } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: tenantId } }));
    const before = (await cp.call('GET', `/v1/key-links/${azureLink}?minPosition=${policy.position}`, { token })).body;

    expect((await scheduler().runOnce(new Date(Date.now() + 10 * DAY))).overdue).toBe(0);
    const round = await scheduler().runOnce(new Date(Date.now() + 31 * DAY));
    expect(round.rotated).toContain(azureLink);
    expect(round.due).toContain(hsmLink);
    expect(round.failed).toEqual([]);
    expect(await types(azureLink)).toEqual(['KeyLinked', 'KeyPossessionProven', 'KeyLinkActivated', 'KeyRotationStarted', 'KeyLinkRotated']);
    expect(await types(hsmLink)).toEqual(['KeyLinked', 'KeyPossessionProven', 'KeyLinkActivated', 'KeyRotationStarted', 'KeyRotationDue']);
    const rotated = (await cp.running.infra.store.readStream(keyLinkStream(azureLink))).at(-1)!;
    expect(rotated.data).toMatchObject({ previousVersion: before.keyVersion, keyVersion: expect.any(String) });
    expect(rotated.metadata.actor).toMatchObject({ subject: 'cmk:rotation-scheduler' });
    expect((rotated.data as { keyVersion: string }).keyVersion).not.toBe(before.keyVersion);

    // Ten days on, nothing is overdue; a month on again, the Azure key (rotated today) is due again and rotated,
    // while the HSM key stays one finding, not re-recorded each round.
    expect((await scheduler().runOnce(new Date(Date.now() + 10 * DAY))).overdue).toBe(0);
    const again = await scheduler().runOnce(new Date(Date.now() + 31 * DAY));
    expect(again.rotated).toContain(azureLink);
    expect(again.due).toContain(hsmLink);
    expect(await types(hsmLink)).toEqual(['KeyLinked', 'KeyPossessionProven', 'KeyLinkActivated', 'KeyRotationStarted', 'KeyRotationDue']);
    const view = (await cp.call('GET', `/v1/key-links/${hsmLink}?minPosition=${(await cp.running.infra.store.headPosition()).toString()}`, { token })).body;
    expect(view.rotationDue).toBe('provider-cannot-rotate');
    const compliance = (await cp.call('GET', `/v1/compliance?tenantId=${tenantId}`, { token })).body;
    expect(compliance.rotation.needsPerson).toEqual([{ keyLinkId: hsmLink, tenantId, keySince: expect.any(String), why: 'provider-cannot-rotate' }]);
  });

  it('completes a rotation the provider did before a crash, from its current version, without rotating again', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
    const name = `crash-${randomUUID().slice(0, 8)}`;
    await admin.createOctKey(name, { keySize: 256, hsm: true });
    const link = await activeLink(tenantId, { providerKind: 'azure-keyvault', keyReference: `${vault.vaultUrl}/keys/${name}` });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name: `rotate-${tenantId}`, document: { rotation: { maxAgeDays: 30 } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: tenantId } }));

    // As if a previous round recorded the start, the provider rotated, and the process died before the append.
    const aggregates = cp.running.app.get(Aggregates);
    const ctx = { actor: { subject: 'cmk:rotation-scheduler', roles: ['platform-operator'] }, commandId: randomUUID(), correlationId: randomUUID(), now: new Date() };
    await aggregates.execute(keyLinkStream(link), keyLinkDecider, { type: 'StartKeyRotation', keyLinkId: link, maxAgeDays: 30 }, ctx);
    const atProvider = await admin.rotateKey(name);
    const rotateCalls = () => vault.requests.filter((r) => r.method === 'POST' && r.path === `/keys/${name}/rotate`).length;
    const callsBefore = rotateCalls();

    const round = await scheduler().runOnce(new Date(Date.now() + 31 * DAY));
    expect(round.rotated).toContain(link);
    expect(rotateCalls()).toBe(callsBefore);
    const last = (await cp.running.infra.store.readStream(keyLinkStream(link))).at(-1)!;
    expect(last.type).toBe('KeyLinkRotated');
    expect((last.data as { keyVersion: string }).keyVersion).toBe(atProvider.properties.version);
  });

  it('lets only one of two instances on the same database act in a round', async () => {
    const other = await startTestControlPlane({
      env: { CMK_EVENT_STORE_SCHEMA: cp.running.infra.config.eventStoreSchema, CMK_READ_MODEL_SCHEMA: cp.running.infra.config.readModelSchema, CMK_EVENT_STORE_APP_ROLE: cp.running.infra.config.eventStoreAppRole! },
    });
    try {
      // This instance is in a round (it holds the lock) while the other one's round comes due.
      let finish!: () => void;
      const acquired = new Promise<void>((inRound) => {
        void cp.running.app.get(SchedulerLock).whileHeld('rotation-scheduler', () => {
          inRound();
          return new Promise<void>((r) => (finish = r));
        });
      });
      await acquired;
      const skipped = await other.running.app.get(KeyRotationScheduler).runOnce(new Date(Date.now() + 400 * DAY));
      expect(skipped).toMatchObject({ acted: false, rotated: [] });
      finish();
      await new Promise((r) => setTimeout(r, 50));
      expect((await other.running.app.get(KeyRotationScheduler).runOnce(new Date(Date.now() + 400 * DAY))).acted).toBe(true);
    } finally {
      await other.close();
    }
  });
});
