/**
 * The worker as its own process (apps/regional-worker/src/main.ts, compiled with swc into .tmp/): configuration
 * validated at start, Kafka (CMK_TEST_KAFKA_BROKERS), SoftHSM2 via the CMK_PKCS11_* settings, a JWKS served
 * over HTTP, structured logs on stdout that never carry key material or tokens, clean stop on SIGTERM.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KafkaMesh, MeshLogger } from '@cmk/mesh';
import { testKafkaBrokers } from '@cmk/testing/kafka';
import { OrbitalTestPublisher } from './support/orbital-test-publisher';
import { eventually, keyLink, tenantView, TestHsm } from './support/worker-harness';
import { TEST_ISSUER, WorkloadIssuer } from './support/workload-issuer';

const ROOT = join(__dirname, '../..');
const quiet: MeshLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

let buildDir: string;
let hsm: TestHsm;
let issuer: WorkloadIssuer;
let jwks: Server;
let jwksUrl: string;

beforeAll(async () => {
  // Under the repository so the compiled files resolve node_modules; .tmp/ is ignored by git.
  buildDir = join(ROOT, '.tmp', `worker-process-${randomBytes(4).toString('hex')}`);
  mkdirSync(buildDir, { recursive: true });
  execFileSync('npx', ['swc', 'apps/regional-worker/src', 'libs', '-d', buildDir, '--config-file', '.swcrc', '--only', '**/*.ts', '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/testing/**', '--quiet'], { cwd: ROOT, stdio: 'pipe' });
  hsm = await TestHsm.create();
  issuer = await WorkloadIssuer.create();
  jwks = createServer((_req, res) => res.end(JSON.stringify(issuer.jwks)));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => (jwks ? jwks.close(() => r()) : r()));
  await hsm?.close();
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

describe('regional worker process', () => {
  it('refuses to start on a bad setting and names it', async () => {
    const worker = run({ CMK_WORKER_ID: 'w1', CMK_MESH_BROKERS: 'localhost:9092', CMK_AUTH_ISSUER: 'x', CMK_AUTH_JWKS_URL: 'http://x/jwks' });
    expect(await worker.exited).toBe(2);
    expect(worker.stderr()).toContain('Invalid configuration: CMK_WORKER_REGION is required');
  });

  it('starts from the environment, serves data keys, logs no key material or token, and stops on SIGTERM', async () => {
    const brokers = testKafkaBrokers();
    const prefix = `p${randomBytes(5).toString('hex')}.`;
    const mesh = new KafkaMesh({ brokers, clientId: 'worker-process-bridge', logger: quiet });
    const publisher = await OrbitalTestPublisher.create(mesh, prefix, ['eu-central-1']);
    const l1 = hsm.l1Key('process-l1').ref;
    await publisher.state(tenantView('tenant-p', [keyLink('k1', l1)]));
    await publisher.startHeartbeats(100);
    const worker = run({
      CMK_WORKER_ID: 'eu-process-1',
      CMK_WORKER_REGION: 'eu-central-1',
      CMK_WORKER_HOST: '127.0.0.1',
      CMK_WORKER_PORT: '0',
      CMK_WORKER_USAGE_INTERVAL_MS: '500',
      CMK_MESH_BROKERS: brokers.join(','),
      CMK_MESH_TOPIC_PREFIX: prefix,
      CMK_AUTH_ISSUER: TEST_ISSUER,
      CMK_AUTH_JWKS_URL: jwksUrl,
      CMK_LOG_LEVEL: 'debug',
      SOFTHSM2_CONF: hsm.hsm.env.SOFTHSM2_CONF,
      CMK_PKCS11_MODULE: hsm.hsm.modulePath,
      CMK_PKCS11_TOKEN_LABEL: hsm.hsm.tokenLabel,
      CMK_PKCS11_PIN: hsm.hsm.pin,
    });
    try {
      const url = await eventually(() => {
        const line = worker.stdout().split('\n').find((l) => l.includes('regional worker listening'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      }, 20_000, 50);
      await eventually(async () => (await fetch(`${url}/health/ready`)).status === 200, 30_000, 50);
      const token = await issuer.token({ tenant: 'tenant-p', system: 'sys-k1' });
      const post = async (path: string, body: unknown) => {
        const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      const generated = await post('/v1/data-keys', {});
      expect(generated.status).toBe(200);
      expect((await post('/v1/unwrap', { ciphertextBlob: generated.body.ciphertextBlob })).body.plaintext).toBe(generated.body.plaintext);
      expect((await post('/v1/unwrap', { ciphertextBlob: 'AAAA' })).status).toBe(400);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('cmk_worker_ready 1');
      expect(metrics).toContain('cmk_worker_process_cpu_seconds_total'); // process metrics in standalone mode

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const logs = worker.stdout() + worker.stderr();
      const lines = worker.stdout().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // structured, one JSON object per line
      expect(logs).toContain('caught up with the state topic');
      expect(logs).toContain('regional worker stopped');
      for (const secret of [generated.body.plaintext, generated.body.ciphertextBlob, token, hsm.hsm.pin]) expect(logs).not.toContain(secret);
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await publisher.stopHeartbeats();
      await mesh.close();
    }
  });
});
