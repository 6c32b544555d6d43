/**
 * Workload identity at the regional worker with client-credentials tokens from real OpenID Providers
 * (oidc-provider 9, child processes): the worker trusts two issuers at once, configured through CMK_AUTH_ISSUERS
 * and the worker's own configuration loader, each with its own claim layout (one by tenant and system claims,
 * found by OIDC discovery; one by client id mapped to a system, with an explicit JWKS URL). Workers run on the
 * in-process mesh with a real SoftHSM2 token as the tenants' L1.
 */
import { decodeJwt } from 'jose';
import pino from 'pino';
import { IssuerRegistry, JwtVerifier } from '@cmk/auth';
import { InProcessMesh } from '@cmk/mesh';
import { loadWorkerConfig } from '../../apps/regional-worker/src/config/worker.config';
import { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { OidcTestProvider } from '../support/oidc/oidc-provider';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { api, eventually, keyLink, tenantView, TestHsm } from './support/worker-harness';

const EU = 'eu-central-1';
const WORKER_AUDIENCE = 'urn:cmk:worker:eu';
const CONTROL_PLANE_API = 'urn:cmk:api';
const resources = { [WORKER_AUDIENCE]: { scope: 'cmk-worker', ttlSeconds: 300 }, [CONTROL_PLANE_API]: { scope: 'cmk' } };

let hsm: TestHsm;
let a: OidcTestProvider;
let b: OidcTestProvider;
let untrusted: OidcTestProvider;
let registry: IssuerRegistry;
let mesh: InProcessMesh;
let publisher: OrbitalTestPublisher;
let worker: RegionalWorker;

beforeAll(async () => {
  hsm = await TestHsm.create();
  const l1a = hsm.l1Key('wi-tenant-a').ref;
  const l1b = hsm.l1Key('wi-tenant-b').ref;
  [a, b, untrusted] = await Promise.all([
    OidcTestProvider.start({
      alg: 'ES256',
      resources,
      defaultResource: WORKER_AUDIENCE,
      users: {},
      workloads: {
        'billing-svc': { claims: { cmk_tenant: 'tenant-a', cmk_system: 'sys-k1' } },
        'short-svc': { claims: { cmk_tenant: 'tenant-a', cmk_system: 'sys-k1' }, accessTokenTtlSeconds: 1 },
        'ghost-svc': { claims: { cmk_tenant: 'tenant-a', cmk_system: 'sys-ghost' } },
        // A system that exists, but at another tenant.
        'sneaky-svc': { claims: { cmk_tenant: 'tenant-a', cmk_system: 'sys-b1' } },
        'no-system-svc': { claims: { cmk_tenant: 'tenant-a' } },
      },
    }),
    OidcTestProvider.start({
      alg: 'RS256',
      resources,
      defaultResource: WORKER_AUDIENCE,
      users: {},
      workloads: {
        'payments-svc': { claims: { org: { tenant_id: 'tenant-b' } } },
        'unmapped-svc': { claims: { org: { tenant_id: 'tenant-b' } } },
      },
    }),
    OidcTestProvider.start({ resources, defaultResource: WORKER_AUDIENCE, users: {}, workloads: { 'rogue-svc': { claims: { cmk_tenant: 'tenant-a', cmk_system: 'sys-k1' } } } }),
  ]);
  const config = loadWorkerConfig({
    CMK_WORKER_ID: 'eu-wi-1',
    CMK_WORKER_REGION: EU,
    CMK_MESH_BROKERS: 'unused:9092',
    CMK_AUTH_ISSUERS: JSON.stringify([
      // Keys by OIDC discovery; tenant and system claims by default (cmk_tenant, cmk_system). No clock tolerance,
      // so the expiry case below needs no long wait.
      { issuer: a.issuer, audience: WORKER_AUDIENCE, clockToleranceSeconds: 0 },
      {
        issuer: b.issuer,
        jwksUrl: `${b.issuer}/jwks`,
        audience: WORKER_AUDIENCE,
        algorithms: ['RS256'],
        tenantClaim: 'org.tenant_id',
        workload: { systemClaim: 'client_id', systems: { 'payments-svc': 'sys-b1' } },
      },
    ]),
  });
  registry = new IssuerRegistry(config.auth.issuers);
  expect(await registry.start()).toEqual({ unavailable: [] });

  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  publisher = await OrbitalTestPublisher.create(mesh, '', [EU]);
  await publisher.state(tenantView('tenant-a', [keyLink('k1', l1a)]));
  await publisher.state(tenantView('tenant-b', [keyLink('b1', l1b)]));
  await publisher.startHeartbeats(100);
  worker = new RegionalWorker({
    workerId: config.workerId,
    region: config.region,
    mesh,
    endOffsets: inProcessEndOffsets(mesh),
    providers: [hsm.provider()],
    verifier: new JwtVerifier(registry),
    logger: pino({ level: process.env.CMK_TEST_LOG_LEVEL ?? 'silent' }),
    port: 0,
  });
  await worker.start();
  await eventually(() => worker.ready && Number.isFinite(worker.heartbeat.lastHeartbeatAt), 30_000);
}, 120_000);

afterAll(async () => {
  await publisher?.stopHeartbeats();
  await worker?.stop();
  await mesh?.close();
  registry?.close();
  await Promise.all([a?.stop(), b?.stop(), untrusted?.stop()]);
  await hsm?.close();
});

async function refused(token: string, detail: string): Promise<void> {
  const res = await api(worker, '/v1/data-keys', token, {});
  expect(res).toMatchObject({ status: 401, body: { reason: 'unauthenticated', status: 401 } });
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body.detail).toContain(detail);
  // The refusal never echoes the token.
  expect(JSON.stringify(res.body)).not.toContain(token.split('.')[1]);
}

describe('client-credentials tokens from real OpenID Providers (oidc-provider) at the regional worker', () => {
  it('accepts workloads of two trusted issuers at once, each mapped by its own claims, for their own tenant\'s data', async () => {
    const billingToken = await a.clientCredentialsToken('billing-svc');
    expect(decodeJwt(billingToken)).toMatchObject({ iss: a.issuer, aud: WORKER_AUDIENCE, sub: 'billing-svc', cmk_tenant: 'tenant-a', cmk_system: 'sys-k1' });
    const billing = await api(worker, '/v1/data-keys', billingToken, {});
    expect(billing).toMatchObject({ status: 200, body: { keyLinkId: 'k1' } });
    const opened = await api(worker, '/v1/unwrap', billingToken, { ciphertextBlob: billing.body.ciphertextBlob });
    expect(opened).toMatchObject({ status: 200, body: { keyLinkId: 'k1', plaintext: billing.body.plaintext } });

    const paymentsToken = await b.clientCredentialsToken('payments-svc');
    expect(decodeJwt(paymentsToken)).toMatchObject({ iss: b.issuer, client_id: 'payments-svc', org: { tenant_id: 'tenant-b' } });
    const payments = await api(worker, '/v1/data-keys', paymentsToken, {});
    expect(payments).toMatchObject({ status: 200, body: { keyLinkId: 'b1' } });

    // Another tenant's data does not open for either of them: the blob names a key link the caller's tenant has not.
    for (const [token, blob] of [[paymentsToken, billing.body.ciphertextBlob], [billingToken, payments.body.ciphertextBlob]]) {
      const crossed = await api(worker, '/v1/unwrap', token, { ciphertextBlob: blob });
      expect(crossed).toMatchObject({ status: 403, body: { reason: 'key-link-not-active' } });
      expect(crossed.body.plaintext).toBeUndefined();
    }
  });

  it('denies a verified workload whose system is not registered for its tenant (the local access decision)', async () => {
    for (const client of ['ghost-svc', 'sneaky-svc']) {
      const res = await api(worker, '/v1/data-keys', await a.clientCredentialsToken(client), {});
      expect(res).toMatchObject({ status: 403, body: { reason: 'unknown-system' } });
    }
  });

  it('refuses a token for another audience, from an untrusted issuer, or naming no system, with a 401 problem', async () => {
    await refused(await a.clientCredentialsToken('billing-svc', { resource: CONTROL_PLANE_API }), 'token claim "aud" is invalid');
    await refused(await untrusted.clientCredentialsToken('rogue-svc'), 'token claim "iss" is not a trusted issuer');
    await refused(await a.clientCredentialsToken('no-system-svc'), 'token must name the system it acts for (claim cmk_system)');
    // B names systems by client id: a client it has not mapped is nobody here, not a person.
    await refused(await b.clientCredentialsToken('unmapped-svc'), 'not mapped to a CMK system');
  });

  it('refuses an expired token', async () => {
    const token = await a.clientCredentialsToken('short-svc');
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(1); // this client's own token lifetime (the resource's is 300 s)
    // The issuer's clock tolerance is 0 here: wait until the token's own expiry has passed.
    await eventually(() => Date.now() > exp! * 1000 + 200, 10_000, 50);
    await refused(token, 'token expired');
  });
});
