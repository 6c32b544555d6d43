/**
 * Mutual TLS for workloads at the regional worker: HTTPS with a server certificate, client certificates verified
 * against the workload CA and read as SPIFFE IDs (spiffe://<trust domain>/tenant/<t>/system/<s>). The CAs and
 * certificates are made at run time with the openssl CLI in a temp directory; requests use node's https client.
 * The worker's TLS settings go through its configuration loader and file checks (CMK_WORKER_TLS_*), and it runs
 * on the in-process mesh with a real SoftHSM2 token as the tenants' L1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessMesh } from '@cmk/mesh';
import { readWorkerTls } from '../../apps/regional-worker/src/config/worker-tls.config';
import { loadWorkerConfig, WorkerConfigError } from '../../apps/regional-worker/src/config/worker.config';
import type { RegionalWorker } from '../../apps/regional-worker/src/regional-worker';
import { inProcessEndOffsets } from '../../apps/regional-worker/src/view/end-offsets';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { httpsApi } from './support/tls-client';
import { createWorker, eventually, keyLink, tenantView, TestHsm } from './support/worker-harness';
import { IssuedCertificate, TestCa, WorkloadPki } from './support/workload-pki';
import { WorkloadIssuer } from './support/workload-issuer';

const EU = 'eu-central-1';
const TRUST_DOMAIN = 'cmk.test';
const svid = (tenant: string, system: string, domain = TRUST_DOMAIN) => `URI:spiffe://${domain}/tenant/${tenant}/system/${system}`;

let hsm: TestHsm;
let issuer: WorkloadIssuer;
let pki: WorkloadPki;
let serverCa: TestCa;
let workloadCa: TestCa;
let otherCa: TestCa;
let serverCert: IssuedCertificate;
let mesh: InProcessMesh;
let publisher: OrbitalTestPublisher;
let worker: RegionalWorker;

const env = (over: Record<string, string> = {}) => ({
  CMK_WORKER_ID: 'eu-mtls-1',
  CMK_WORKER_REGION: EU,
  CMK_MESH_BROKERS: 'unused:9092',
  CMK_AUTH_ISSUER: 'urn:cmk:test-workload-issuer',
  CMK_AUTH_JWKS_URL: 'http://127.0.0.1/unused',
  CMK_WORKER_TLS_CERT: serverCert.certFile,
  CMK_WORKER_TLS_KEY: serverCert.keyFile,
  CMK_WORKER_TLS_CLIENT_CA: workloadCa.certFile,
  CMK_WORKER_MTLS_TRUST_DOMAIN: TRUST_DOMAIN,
  ...over,
});

beforeAll(async () => {
  hsm = await TestHsm.create();
  issuer = await WorkloadIssuer.create();
  pki = WorkloadPki.create();
  serverCa = pki.ca('server-ca');
  workloadCa = pki.ca('workload-ca');
  otherCa = pki.ca('other-ca');
  serverCert = serverCa.server('worker-eu');

  const config = loadWorkerConfig(env());
  mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
  publisher = await OrbitalTestPublisher.create(mesh, '', [EU]);
  await publisher.state(tenantView('tenant-a', [keyLink('k1', hsm.l1Key('mtls-tenant-a').ref)]));
  await publisher.state(tenantView('tenant-b', [keyLink('b1', hsm.l1Key('mtls-tenant-b').ref)]));
  await publisher.startHeartbeats(100);
  worker = createWorker({ mesh, endOffsets: inProcessEndOffsets(mesh), region: EU, workerId: config.workerId, issuer, provider: hsm.provider(), tls: readWorkerTls(config.tls!) });
  await worker.start();
  await eventually(() => worker.ready && Number.isFinite(worker.heartbeat.lastHeartbeatAt), 30_000);
}, 120_000);

afterAll(async () => {
  await publisher?.stopHeartbeats();
  await worker?.stop();
  await mesh?.close();
  await hsm?.close();
  pki?.close();
});

const call = (path: string, client: { cert?: IssuedCertificate; token?: string }, body: unknown = {}) =>
  httpsApi(worker.url, path, { ca: serverCa.cert, cert: client.cert?.cert, key: client.cert?.key, token: client.token }, body);

async function expectRefused(client: { cert?: IssuedCertificate; token?: string }, detail: string): Promise<void> {
  const res = await call('/v1/data-keys', client);
  expect(res).toMatchObject({ status: 401, body: { reason: 'unauthenticated', status: 401 } });
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body.detail).toContain(detail);
}

describe('mutual TLS workload identity at the regional worker (openssl-made PKI, node https client)', () => {
  it('serves HTTPS; health needs no client certificate', async () => {
    expect(worker.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const live = await httpsApi(worker.url, '/health/live', { ca: serverCa.cert }, undefined, 'GET');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('accepts a verified SPIFFE certificate as the workload identity, no bearer token needed', async () => {
    const cert = workloadCa.client('billing', { sans: [svid('tenant-a', 'sys-k1')] });
    const generated = await call('/v1/data-keys', { cert });
    expect(generated).toMatchObject({ status: 200, body: { keyLinkId: 'k1' } });
    const opened = await call('/v1/unwrap', { cert }, { ciphertextBlob: generated.body.ciphertextBlob });
    expect(opened).toMatchObject({ status: 200, body: { plaintext: generated.body.plaintext } });
    // Another tenant's certificate does not open it.
    const other = workloadCa.client('payments', { sans: [svid('tenant-b', 'sys-b1')] });
    expect(await call('/v1/unwrap', { cert: other }, { ciphertextBlob: generated.body.ciphertextBlob })).toMatchObject({ status: 403, body: { reason: 'key-link-not-active' } });
  });

  it('sends certificate identities through the local access decision: an unknown system is denied', async () => {
    const ghost = workloadCa.client('ghost', { sans: [svid('tenant-a', 'sys-ghost')] });
    expect(await call('/v1/data-keys', { cert: ghost })).toMatchObject({ status: 403, body: { reason: 'unknown-system' } });
    const elsewhere = workloadCa.client('elsewhere', { sans: [svid('tenant-a', 'sys-b1')] });
    expect(await call('/v1/data-keys', { cert: elsewhere })).toMatchObject({ status: 403, body: { reason: 'unknown-system' } });
    const nobody = workloadCa.client('nobody', { sans: [svid('tenant-z', 'sys-z')] });
    expect(await call('/v1/data-keys', { cert: nobody })).toMatchObject({ status: 403, body: { reason: 'unknown-tenant' } });
  });

  it('with a certificate and a bearer token, accepts only when both name the same tenant and system', async () => {
    const cert = workloadCa.client('billing-both', { sans: [svid('tenant-a', 'sys-k1')] });
    expect(await call('/v1/data-keys', { cert, token: await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' }) })).toMatchObject({ status: 200 });
    await expectRefused({ cert, token: await issuer.token({ tenant: 'tenant-b', system: 'sys-b1' }) }, 'the client certificate and the bearer token name different workloads');
    await expectRefused({ cert, token: await issuer.token({ tenant: 'tenant-a', system: 'sys-other' }) }, 'name different workloads');
    // The token is still checked in full next to a good certificate.
    await expectRefused({ cert, token: await issuer.token({ tenant: 'tenant-a', system: 'sys-k1', ttlSeconds: -60 }) }, 'token expired');
  });

  it('still accepts a bearer token alone, and refuses a request with neither', async () => {
    expect(await call('/v1/data-keys', { token: await issuer.token({ tenant: 'tenant-b', system: 'sys-b1' }) })).toMatchObject({ status: 200, body: { keyLinkId: 'b1' } });
    await expectRefused({}, 'a Bearer token or a workload client certificate is required');
  });

  it('refuses a certificate from another CA, an expired one, and one without a SPIFFE ID in the trust domain, each with a clear 401', async () => {
    const token = await issuer.token({ tenant: 'tenant-a', system: 'sys-k1' });
    const foreign = otherCa.client('foreign', { sans: [svid('tenant-a', 'sys-k1')] });
    await expectRefused({ cert: foreign }, 'the client certificate is not issued by the workload CA this worker trusts');
    // A presented certificate that fails is a false claim: a valid token next to it does not rescue the request.
    await expectRefused({ cert: foreign, token }, 'not issued by the workload CA');
    const expired = workloadCa.client('expired', { sans: [svid('tenant-a', 'sys-k1')], notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    await expectRefused({ cert: expired }, 'the client certificate has expired (CERT_HAS_EXPIRED)');
    await expectRefused({ cert: workloadCa.client('no-san') }, 'has no URI subject alternative name');
    await expectRefused({ cert: workloadCa.client('dns-only', { sans: ['DNS:billing.cmk.test'] }) }, 'has no URI subject alternative name');
    await expectRefused({ cert: workloadCa.client('other-domain', { sans: [svid('tenant-a', 'sys-k1', 'evil.test')] }) }, 'not in the trust domain cmk.test');
    await expectRefused({ cert: workloadCa.client('two-ids', { sans: [svid('tenant-a', 'sys-k1'), svid('tenant-b', 'sys-b1')] }) }, 'more than one URI subject alternative name');
    await expectRefused({ cert: workloadCa.client('bad-path', { sans: [`URI:spiffe://${TRUST_DOMAIN}/ns/tenant-a/sa/sys-k1`] }) }, `must be spiffe://${TRUST_DOMAIN}/tenant/<tenantId>/system/<systemId>`);
  });
});

describe('worker TLS files are checked at start-up (readWorkerTls)', () => {
  const refusal = (over: Record<string, string>) => {
    try {
      readWorkerTls(loadWorkerConfig(env(over)).tls!);
    } catch (error) {
      expect(error).toBeInstanceOf(WorkerConfigError);
      return (error as Error).message;
    }
    throw new Error('the TLS files were accepted');
  };

  it('names the variable for a missing file, a key of another certificate, a non-CA client CA, or no PEM at all', () => {
    const missing = join(pki.dir, 'missing.pem');
    expect(refusal({ CMK_WORKER_TLS_CERT: missing })).toBe(`Invalid configuration: CMK_WORKER_TLS_CERT (${missing}) cannot be read: ENOENT`);
    const stranger = serverCa.server('stranger');
    expect(refusal({ CMK_WORKER_TLS_KEY: stranger.keyFile })).toContain('Invalid configuration: CMK_WORKER_TLS_KEY');
    expect(refusal({ CMK_WORKER_TLS_KEY: stranger.keyFile })).toContain('does not belong to the certificate in CMK_WORKER_TLS_CERT');
    expect(refusal({ CMK_WORKER_TLS_CLIENT_CA: stranger.certFile })).toContain('Invalid configuration: CMK_WORKER_TLS_CLIENT_CA');
    expect(refusal({ CMK_WORKER_TLS_CLIENT_CA: stranger.certFile })).toContain('is not a CA');
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    expect(refusal({ CMK_WORKER_TLS_CERT: junk })).toBe('Invalid configuration: CMK_WORKER_TLS_CERT holds no PEM certificate');
    expect(refusal({ CMK_WORKER_TLS_KEY: junk })).toContain('CMK_WORKER_TLS_KEY');
    // The messages never carry file contents.
    expect(refusal({ CMK_WORKER_TLS_KEY: stranger.keyFile })).not.toContain('PRIVATE KEY');
  });
});
