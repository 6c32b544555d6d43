/**
 * The control plane trusting two real OpenID Providers at once (oidc-provider 9 in child processes; people sign
 * in with authorization code + PKCE), each with its own claim layout mapped to CMK roles and tenant scope by
 * CMK_AUTH_ISSUERS. Tenant scope holds in the handlers whatever the URL says; refusals are problem+json.
 */
import { randomUUID } from 'node:crypto';
import { OidcTestProvider } from '../support/oidc/oidc-provider';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { tenantBody } from './fixtures';

const API = 'urn:openkcm:cmk';
const resources = { [API]: { scope: 'cmk', ttlSeconds: 300 } };
const TENANT_A = randomUUID();
const TENANT_B = randomUUID();
let corporate: OidcTestProvider;
let partner: OidcTestProvider;
let untrusted: OidcTestProvider;
let cp: TestControlPlane;

beforeAll(async () => {
  [corporate, partner, untrusted] = await Promise.all([
    OidcTestProvider.start({
      alg: 'ES256',
      resources,
      defaultResource: API,
      users: {
        olga: { claims: { groups: ['cmk-platform'] } },
        alice: { claims: { groups: ['kms-admins'], tenant: TENANT_A } },
      },
      workloads: {},
    }),
    OidcTestProvider.start({
      alg: 'RS256',
      resources,
      defaultResource: API,
      users: { dave: { claims: { realm_access: { roles: ['KeyCustodian'] }, org: { tenant_id: TENANT_B } } } },
      workloads: {},
    }),
    OidcTestProvider.start({ resources, defaultResource: API, users: { mallory: { claims: { groups: ['cmk-platform'] } } }, workloads: {} }),
  ]);
  cp = await startTestControlPlane({
    env: {
      CMK_AUTH_JWKS_URL: '',
      CMK_AUTH_ISSUERS: JSON.stringify([
        { issuer: corporate.issuer, audience: API, rolesClaim: 'groups', tenantClaim: 'tenant', roleMapping: { 'cmk-platform': 'platform-operator', 'kms-admins': 'key-admin' }, passThroughCmkRoles: false },
        { issuer: partner.issuer, jwksUrl: `${partner.issuer}/jwks`, audience: API, rolesClaim: 'realm_access.roles', tenantClaim: 'org.tenant_id', roleMapping: { KeyCustodian: 'key-admin' } },
      ]),
    },
  });
}, 120_000);

afterAll(async () => {
  await cp?.close();
  await Promise.all([corporate?.stop(), partner?.stop(), untrusted?.stop()]);
});

describe('identity: several corporate identity providers', () => {
  it('maps each issuer\'s claims to roles and tenant scope, records who did what, and keeps tenants apart', async () => {
    const olga = await corporate.signIn('olga');
    for (const tenantId of [TENANT_A, TENANT_B]) {
      const res = await cp.call('POST', '/v1/tenants', { token: olga, body: tenantBody({ tenantId }) });
      expect(res.status).toBe(201);
    }
    const alice = await corporate.signIn('alice');
    const dave = await partner.signIn('dave');

    const own = await cp.call('POST', `/v1/tenants/${TENANT_A}/key-links`, {
      token: alice,
      body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
    });
    expect(own.status).toBe(201);
    const foreign = await cp.call('POST', `/v1/tenants/${TENANT_B}/key-links`, {
      token: alice,
      body: { providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
    // The partner's key custodian acts on its own tenant only, and cannot touch alice's link.
    expect((await cp.call('POST', `/v1/key-links/${own.body.id}/revoke`, { token: dave, body: { reason: 'not mine' } })).status).toBe(403);
    expect((await cp.call('GET', `/v1/key-links?tenantId=${TENANT_B}`, { token: dave })).status).toBe(200);
    expect((await cp.call('POST', '/v1/tenants', { token: dave, body: tenantBody({ tenantId: randomUUID() }) })).status).toBe(403);

    const head = (await cp.running.infra.store.headPosition()).toString();
    const audit = await cp.call('GET', `/v1/audit/events?stream=keylink-${own.body.id}&minPosition=${head}`, { token: olga });
    expect(audit.body.items[0].metadata.actor).toMatchObject({ subject: 'alice', roles: ['key-admin'], tenantScope: [TENANT_A], issuer: corporate.issuer });
  });

  it('refuses tokens of an issuer it does not trust, and tampered ones, with 401 problem+json', async () => {
    const mallory = await untrusted.signIn('mallory');
    const res = await cp.call('GET', '/v1/tenants', { token: mallory });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    const olga = await corporate.signIn('olga');
    const [h, p, sig] = olga.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, groups: ['cmk-platform', 'kms-admins'] })).toString('base64url')}.${sig}`;
    expect((await cp.call('GET', '/v1/tenants', { token: forged })).status).toBe(401);
    expect((await cp.call('GET', '/v1/tenants', { token: olga })).status).toBe(200);
  });
});
