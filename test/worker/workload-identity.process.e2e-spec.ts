/**
 * Workload identity settings of the worker as its own process (apps/regional-worker/src/main.ts, compiled with
 * swc into .tmp/): several trusted issuers in CMK_AUTH_ISSUERS with a real OpenID Provider (oidc-provider 9),
 * HTTPS and mutual TLS from CMK_WORKER_TLS_* files made with the openssl CLI at run time, Kafka
 * (CMK_TEST_KAFKA_BROKERS) and SoftHSM2. Bad settings stop the process with exit code 2 naming the variable.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaMesh, MeshLogger } from '@cmk/mesh';
import { testKafkaBrokers } from '@cmk/testing/kafka';
import { OidcTestProvider } from '../support/oidc/oidc-provider';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { httpsApi } from './support/tls-client';
import { eventually, keyLink, tenantView, TestHsm } from './support/worker-harness';
import { TestCa, WorkloadPki } from './support/workload-pki';

const ROOT = join(__dirname, '../..');
const EU = 'eu-central-1';
const AUDIENCE = 'urn:cmk:worker';
const quiet: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

let buildDir: string;
let hsm: TestHsm;
let idp: OidcTestProvider;
let pki: WorkloadPki;
let serverCa: TestCa;
let workloadCa: TestCa;

beforeAll(async () => {
  buildDir = join(ROOT, '.tmp', `worker-identity-process-${randomBytes(4).toString('hex')}`);
  mkdirSync(buildDir, { recursive: true });
  execFileSync('npx', ['swc', 'apps/regional-worker/src', 'libs', '-d', buildDir, '--config-file', '.swcrc', '--only', '**/*.ts', '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/testing/**', '--quiet'], { cwd: ROOT, stdio: 'pipe' });
  hsm = await TestHsm.create();
  idp = await OidcTestProvider.start({
    resources: { [AUDIENCE]: { scope: 'cmk-worker', ttlSeconds: 300 } },
    defaultResource: AUDIENCE,
    users: {},
    workloads: { 'billing-svc': { claims: { tenant: 'tenant-p', svc: 'sys-k1' } } },
  });
  pki = WorkloadPki.create();
  serverCa = pki.ca('server-ca');
  workloadCa = pki.ca('workload-ca');
}, 180_000);

afterAll(async () => {
  await idp?.stop();
  await hsm?.close();
  pki?.close();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(env: Record<string, string | undefined>): Running {
  const child = spawn(process.execPath, [join(buildDir, 'apps/regional-worker/src/main.js')], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

const issuers = () => JSON.stringify([{ issuer: idp.issuer, audience: AUDIENCE, tenantClaim: 'tenant', workload: { systemClaim: 'svc' } }]);

describe('regional worker process: trusted issuers and mutual TLS from the environment', () => {
  it.each([
    [{ CMK_AUTH_ISSUERS: '[{"issuer":"https://idp.example"}]' }, 'Invalid configuration: CMK_AUTH_ISSUERS[0].audience must be a non-empty string'],
    [{ CMK_AUTH_ISSUER: 'urn:x' }, 'Invalid configuration: CMK_AUTH_ISSUER cannot be combined with CMK_AUTH_ISSUERS'],
    [{ CMK_WORKER_TLS_CERT: '/nonexistent/tls.crt', CMK_WORKER_TLS_KEY: '/nonexistent/tls.key' }, 'Invalid configuration: CMK_WORKER_TLS_CERT (/nonexistent/tls.crt) cannot be read: ENOENT'],
    [{ CMK_WORKER_TLS_CERT: '/c', CMK_WORKER_TLS_KEY: '/k', CMK_WORKER_TLS_CLIENT_CA: '/ca' }, 'Invalid configuration: CMK_WORKER_MTLS_TRUST_DOMAIN is required'],
  ])('refuses to start on %j and names the setting', async (change, message) => {
    const worker = run({ CMK_WORKER_ID: 'w1', CMK_WORKER_REGION: EU, CMK_MESH_BROKERS: 'localhost:9092', CMK_AUTH_ISSUERS: issuers(), ...change });
    expect(await worker.exited).toBe(2);
    expect(worker.stderr()).toContain(message);
  });

  it('serves HTTPS, accepts the provider\'s client-credentials token and a SPIFFE client certificate, refuses a certificate from another CA', async () => {
    const brokers = testKafkaBrokers();
    const prefix = `p${randomBytes(5).toString('hex')}.`;
    const mesh = new KafkaMesh({ brokers, clientId: 'worker-identity-process-bridge', logger: quiet });
    const publisher = await OrbitalTestPublisher.create(mesh, prefix, [EU]);
    await publisher.state(tenantView('tenant-p', [keyLink('k1', hsm.l1Key('identity-process-l1').ref)]));
    await publisher.startHeartbeats(100);
    const server = serverCa.server('worker-process');
    const worker = run({
      CMK_WORKER_ID: 'eu-identity-1',
      CMK_WORKER_REGION: EU,
      CMK_WORKER_HOST: '127.0.0.1',
      CMK_WORKER_PORT: '0',
      CMK_MESH_BROKERS: brokers.join(','),
      CMK_MESH_TOPIC_PREFIX: prefix,
      CMK_AUTH_ISSUERS: issuers(),
      CMK_WORKER_TLS_CERT: server.certFile,
      CMK_WORKER_TLS_KEY: server.keyFile,
      CMK_WORKER_TLS_CLIENT_CA: workloadCa.certFile,
      CMK_WORKER_MTLS_TRUST_DOMAIN: 'cmk.test',
      CMK_LOG_LEVEL: 'debug',
      SOFTHSM2_CONF: hsm.hsm.env.SOFTHSM2_CONF,
      CMK_PKCS11_MODULE: hsm.hsm.modulePath,
      CMK_PKCS11_TOKEN_LABEL: hsm.hsm.tokenLabel,
      CMK_PKCS11_PIN: hsm.hsm.pin,
    });
    const ca = serverCa.cert;
    try {
      const url = await eventually(() => {
        const line = worker.stdout().split('\n').find((l) => l.includes('regional worker listening'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      }, 30_000, 50);
      expect(url).toMatch(/^https:\/\//);
      await eventually(async () => (await httpsApi(url, '/health/ready', { ca }, undefined, 'GET')).status === 200, 30_000, 100);

      const token = await idp.clientCredentialsToken('billing-svc');
      expect(await httpsApi(url, '/v1/data-keys', { ca, token }, {})).toMatchObject({ status: 200, body: { keyLinkId: 'k1' } });
      const cert = workloadCa.client('billing', { sans: ['URI:spiffe://cmk.test/tenant/tenant-p/system/sys-k1'] });
      const generated = await httpsApi(url, '/v1/data-keys', { ca, cert: cert.cert, key: cert.key }, {});
      expect(generated).toMatchObject({ status: 200, body: { keyLinkId: 'k1' } });
      expect(await httpsApi(url, '/v1/unwrap', { ca, cert: cert.cert, key: cert.key, token }, { ciphertextBlob: generated.body.ciphertextBlob })).toMatchObject({ status: 200, body: { plaintext: generated.body.plaintext } });
      const foreign = serverCa.client('foreign', { sans: ['URI:spiffe://cmk.test/tenant/tenant-p/system/sys-k1'] });
      const refused = await httpsApi(url, '/v1/data-keys', { ca, cert: foreign.cert, key: foreign.key }, {});
      expect(refused).toMatchObject({ status: 401, body: { reason: 'unauthenticated', detail: expect.stringContaining('not issued by the workload CA') } });

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const logs = worker.stdout() + worker.stderr();
      for (const secret of [token, generated.body.plaintext, cert.key, server.key, hsm.hsm.pin]) expect(logs).not.toContain(secret);
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await publisher.stop();
      await mesh.close();
    }
  });
});
