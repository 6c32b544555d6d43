/**
 * Data-key unwrap through a regional worker's HTTP API, with a real SoftHSM2 token as the tenant's L1 and
 * CMK_BENCH_CLIENTS (default 32) concurrent keep-alive clients, for CMK_BENCH_SECONDS (default 5) per
 * measurement: ops/s and p50/p99 latency. In the same run, two baselines: (a) raw PKCS#11 unwrap of the L2 key
 * through a Pkcs11KeyProvider directly (same L1 key, same concurrency) and (b) raw AES-256-GCM decrypt of a
 * 32-byte key in node:crypto (one thread); plus generate-data-key through the API once. Needs neither the
 * database nor Kafka (the worker follows an InProcessMesh fed here):  npm run bench -- unwrap
 *
 * Setup: a "minter" worker generates the data keys, so the measured worker, which has never seen their L2 key,
 * must unwrap it through L1 (PKCS#11 C_Decrypt on the token) on its first request; it then caches the L2 key,
 * unwrapped, in memory. Every later unwrap is, per request: a token lookup in the worker's verified-token
 * cache (the JWT signature is checked once per token), the local access decision, parsing the blob, an L2
 * cache hit, and one AES-256-GCM decrypt (with the tenant/system/header AAD) in node:crypto. The HSM is not
 * touched at all in steady state; the bench counts the provider's calls during the measurement to show it.
 *
 * The clients run in a worker thread (their own event loop), so the worker's event loop serves HTTP only; both
 * still share the machine's cores with the libuv thread pool the PKCS#11 adapter uses.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as pkcs11js from 'pkcs11js';
import { exportJWK, SignJWT } from 'jose';
import pino from 'pino';
import { JwtVerifier } from '@cmk/auth';
import type { KeyProvider } from '@cmk/key-providers';
import { formatPkcs11KeyRef, Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { Pkcs11Module } from '@cmk/key-providers/pkcs11/pkcs11-module';
import { InProcessMesh, MESH_POSITION_HEADER } from '@cmk/mesh';
import { encodeMessage, HeartbeatMessage, KeyLinkView, TenantStateMessage, TenantView } from '@cmk/orbital';
import { applySoftHsmEnv, parseShellAssignments, SoftHsmEnv } from '@cmk/testing/softhsm';
import { inProcessEndOffsets, parseBlob, RegionalWorker, workerTopics } from '../apps/regional-worker/src';
import { l1Aad } from '../apps/regional-worker/src/crypto/envelope';
import { fmt, percentile, report } from './bench-util';

const CLIENTS = Number(process.env.CMK_BENCH_CLIENTS ?? 32);
const SECONDS = Number(process.env.CMK_BENCH_SECONDS ?? 5);
const BLOBS = 1_000;
const REGION = 'eu-central-1';
const TENANT = 'bench-tenant';
const LINK = 'k1';
const SYSTEM = `sys-${LINK}`;
const ISSUER = 'urn:cmk:bench-workload-issuer';
const AUDIENCE = 'openkcm-cmk-worker';

interface LoadJob {
  url: string;
  path: string;
  tokens: string[];
  bodies: string[];
  /** The plaintext each body must come back with (unwrap), or empty (generate: just 200). */
  expected: string[];
  concurrency: number;
  seconds: number;
}

interface LoadResult {
  ok: number;
  errors: number;
  firstError?: string;
  elapsedS: number;
  latenciesMs: Float64Array;
}

interface Measured {
  opsPerS: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
  firstError?: string;
}

const summarize = (r: LoadResult): Measured => {
  const sorted = Array.from(r.latenciesMs).sort((a, b) => a - b);
  return { opsPerS: r.ok / r.elapsedS, p50: percentile(sorted, 50), p99: percentile(sorted, 99), ok: r.ok, errors: r.errors, firstError: r.firstError };
};

/** Runs in the client thread: `concurrency` loops, each one keep-alive connection, until the time is up. */
async function runLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });
  const { hostname, port } = new URL(job.url);
  const post = (token: string, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { agent, hostname, port, path: job.path, method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, c) => {
      const token = job.tokens[c % job.tokens.length];
      for (let i = c; performance.now() < deadline; i += job.concurrency) {
        const n = i % job.bodies.length;
        const t0 = performance.now();
        try {
          const res = await post(token, job.bodies[n]);
          const t1 = performance.now();
          const good = res.status === 200 && (job.expected.length === 0 || (JSON.parse(res.text) as { plaintext?: string }).plaintext === job.expected[n]);
          if (good) {
            ok++;
            latencies.push(t1 - t0);
          } else {
            errors++;
            firstError ??= `${res.status} ${res.text.slice(0, 200)}`;
          }
        } catch (e) {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  return { ok, errors, firstError, elapsedS, latenciesMs: Float64Array.from(latencies) };
}

function loadInThread(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(__filename, { workerData: job });
    thread.once('message', (r: LoadResult) => resolve(r));
    thread.once('error', reject);
    thread.once('exit', (code) => code !== 0 && reject(new Error(`client thread exited with ${code}`)));
  });
}

/** The same concurrent, timed loop in this thread, for the direct provider baseline. */
async function timedConcurrent(concurrency: number, seconds: number, task: (i: number) => Promise<void>): Promise<Measured> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      for (let i = c; performance.now() < deadline; i += concurrency) {
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return { opsPerS: latencies.length / elapsedS, p50: percentile(sorted, 50), p99: percentile(sorted, 99), ok: latencies.length, errors: 0 };
}

/** AES-256-GCM decrypt of a 32-byte key in node:crypto, one thread, with an AAD the size the worker uses. */
function rawAesGcm(seconds: number, aadBytes: number): { opsPerS: number; nsPerOp: number } {
  const key = randomBytes(32);
  const aad = randomBytes(aadBytes);
  const samples = Array.from({ length: 256 }, () => {
    const iv = randomBytes(12);
    const plaintext = randomBytes(32);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, ciphertext, tag: cipher.getAuthTag(), plaintext };
  });
  const decrypt = (s: (typeof samples)[number]) => {
    const d = createDecipheriv('aes-256-gcm', key, s.iv, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(s.tag);
    return Buffer.concat([d.update(s.ciphertext), d.final()]);
  };
  for (const s of samples) if (!decrypt(s).equals(s.plaintext)) throw new Error('AES-GCM baseline round trip failed');
  let ops = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 1024; i++) decrypt(samples[i & 255]);
    ops += 1024;
  }
  const elapsedS = (performance.now() - started) / 1000;
  return { opsPerS: ops / elapsedS, nsPerOp: (elapsedS * 1e9) / ops };
}

interface BenchHsm {
  dir: string;
  env: SoftHsmEnv;
  modulePath: string;
  tokenLabel: string;
  pin: string;
}

/**
 * A throwaway SoftHSM2 token through deploy/local/softhsm.sh. (test/support's initSoftHsm finds the script
 * relative to its own file, which from dist/ points nowhere, so the bench calls it from the repository root.)
 */
function initBenchHsm(): BenchHsm {
  const dir = mkdtempSync(join(process.env.CMK_BENCH_DIR ?? tmpdir(), 'softhsm-'));
  const script = join(__dirname, '../../deploy/local/softhsm.sh');
  const out = execFileSync(script, ['init', join(dir, 'hsm'), `bench-${randomBytes(4).toString('hex')}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const env = parseShellAssignments(out) as unknown as SoftHsmEnv;
  for (const key of ['SOFTHSM2_CONF', 'CMK_PKCS11_MODULE', 'CMK_PKCS11_TOKEN_LABEL', 'CMK_PKCS11_PIN'] as const) {
    if (!env[key]) throw new Error(`deploy/local/softhsm.sh init printed no ${key}`);
  }
  return { dir, env, modulePath: env.CMK_PKCS11_MODULE, tokenLabel: env.CMK_PKCS11_TOKEN_LABEL, pin: env.CMK_PKCS11_PIN };
}

/** An AES-256 key on the token, non-extractable, as the tenant's HSM administrator would create it. */
function createL1Key(hsm: BenchHsm, label: string): string {
  const module = Pkcs11Module.acquire(hsm.modulePath);
  try {
    module.ensureInitialized();
    const { lib } = module;
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === hsm.tokenLabel);
    if (!slot) throw new Error(`no token labelled ${hsm.tokenLabel}`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, hsm.pin);
      lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: randomBytes(8) },
      ]);
    } finally {
      try {
        lib.C_Logout(session);
      } catch {
        /* other sessions of this process may keep the login */
      }
      lib.C_CloseSession(session);
    }
  } finally {
    module.release();
  }
  return formatPkcs11KeyRef({ token: hsm.tokenLabel, object: label });
}

/** Counts the calls that reach the provider (the HSM), per method. */
function counted(provider: Pkcs11KeyProvider): { provider: KeyProvider; calls: { wrap: number; unwrap: number } } {
  const calls = { wrap: 0, unwrap: 0 };
  const wrap = provider.wrap.bind(provider);
  const unwrap = provider.unwrap.bind(provider);
  provider.wrap = (...args) => {
    calls.wrap++;
    return wrap(...args);
  };
  provider.unwrap = (...args) => {
    calls.unwrap++;
    return unwrap(...args);
  };
  return { provider, calls };
}

async function main(): Promise<void> {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const quiet = pino({ level: process.env.CMK_BENCH_LOG_LEVEL ?? 'silent' });
  try {
    const hsm = initBenchHsm();
    closers.push(() => rmSync(hsm.dir, { recursive: true, force: true }));
    await applySoftHsmEnv(hsm.env);
    const l1 = createL1Key(hsm, 'bench-l1');
    const newProvider = () => {
      const p = new Pkcs11KeyProvider({ modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
      closers.unshift(() => p.close());
      return p;
    };

    // Workload tokens (ES256), as the worker tests issue them.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = randomUUID();
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }, rolesClaim: 'roles', tenantClaim: 'cmk_tenant', clockToleranceSeconds: 5 });
    const token = () =>
      new SignJWT({ cmk_tenant: TENANT, cmk_system: SYSTEM })
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(`workload:${SYSTEM}`)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
        .sign(privateKey);
    const tokens = await Promise.all(Array.from({ length: CLIENTS }, token));

    // The in-process mesh, fed as the mesh bridge would: the tenant's state, then a heartbeat every 100 ms.
    const mesh = new InProcessMesh({ redeliveryDelayMs: 10 });
    closers.push(() => mesh.close());
    const topics = workerTopics(REGION, '');
    await mesh.ensureTopics([
      { name: topics.state, partitions: 3, compacted: true },
      { name: topics.revocations, partitions: 3 },
      { name: topics.heartbeat, partitions: 1 },
      { name: topics.acks, partitions: 1 },
      { name: topics.usage, partitions: 1 },
      { name: topics.workerStatus, partitions: 1 },
      { name: topics.deltas, partitions: 3 },
    ]);
    const link: KeyLinkView = { keyLinkId: LINK, status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: l1, algorithm: 'AES', keySize: 256, providerRegion: REGION };
    const view: TenantView = {
      tenantId: TENANT, status: 'active', jurisdiction: 'EU', homeRegion: REGION, allowedRegions: null, maxStalenessMs: 2000,
      systems: { [SYSTEM]: { systemId: SYSTEM, keyLinkId: LINK, region: REGION } }, keyLinks: { [LINK]: link },
    };
    const state: TenantStateMessage = { kind: 'tenant-state', position: '1', tenantId: TENANT, removed: false, view };
    await mesh.publish(topics.state, [{ key: TENANT, value: encodeMessage(state), headers: { [MESH_POSITION_HEADER]: '1' } }]);
    const heartbeat = () => {
      const m: HeartbeatMessage = { kind: 'heartbeat', epoch: 1, position: '1', sentAt: new Date().toISOString() };
      return mesh.publish(topics.heartbeat, [{ key: 'bridge', value: encodeMessage(m) }]);
    };
    await heartbeat();
    let beating = Promise.resolve();
    const beat = setInterval(() => (beating = beating.then(heartbeat).catch(() => undefined)), 100);
    closers.unshift(async () => {
      clearInterval(beat);
      await beating;
    });

    const startWorker = async (workerId: string, provider: KeyProvider) => {
      const worker = new RegionalWorker({ workerId, region: REGION, mesh, endOffsets: inProcessEndOffsets(mesh), providers: [provider], verifier, logger: quiet, port: 0 });
      closers.unshift(() => worker.stop());
      await worker.start();
      while (!Number.isFinite(worker.heartbeat.lastHeartbeatAt)) await new Promise((r) => setTimeout(r, 10));
      return worker;
    };
    const minterHsm = counted(newProvider());
    const benchHsm = counted(newProvider());
    const minter = await startWorker(`${REGION}-minter`, minterHsm.provider);
    const worker = await startWorker(`${REGION}-bench`, benchHsm.provider);

    // Data keys made by the minter (its own L2); the measured worker has not seen that L2 yet.
    const minted = await runLoadDirect(minter.url, tokens[0], BLOBS);
    const blobs = minted.map((m) => JSON.stringify({ ciphertextBlob: m.ciphertextBlob }));
    const plaintexts = minted.map((m) => m.plaintext);
    const parsed = parseBlob(Buffer.from(minted[0].ciphertextBlob, 'base64'));
    if (!minted.every((m) => parseBlob(Buffer.from(m.ciphertextBlob, 'base64')).l2Id.equals(parsed.l2Id))) throw new Error('the minter used more than one L2 key');

    // Warm-up: the first unwrap opens the L2 through L1 (one PKCS#11 unwrap), then it is cached.
    const unwrapJob: LoadJob = { url: worker.url, path: '/v1/unwrap', tokens, bodies: blobs, expected: plaintexts, concurrency: CLIENTS, seconds: SECONDS };
    const warm = await loadInThread({ ...unwrapJob, seconds: Math.min(2, SECONDS) });
    if (warm.errors > 0) throw new Error(`warm-up unwrap failed: ${warm.firstError}`);
    const warmHsmUnwraps = benchHsm.calls.unwrap;

    const before = { ...benchHsm.calls };
    const unwrap = summarize(await loadInThread(unwrapJob));
    const hsmDuringUnwrap = benchHsm.calls.unwrap - before.unwrap + (benchHsm.calls.wrap - before.wrap);
    if (unwrap.errors > 0) throw new Error(`unwrap: ${unwrap.errors} failed requests, first: ${unwrap.firstError}`);

    // generate-data-key through the API: the worker's own L2 is created (one PKCS#11 wrap) in the warm-up.
    const generateJob: LoadJob = { url: worker.url, path: '/v1/data-keys', tokens, bodies: ['{}'], expected: [], concurrency: CLIENTS, seconds: SECONDS };
    await loadInThread({ ...generateJob, seconds: 1 });
    const beforeGen = { ...benchHsm.calls };
    const generate = summarize(await loadInThread(generateJob));
    const hsmDuringGenerate = benchHsm.calls.unwrap - beforeGen.unwrap + (benchHsm.calls.wrap - beforeGen.wrap);
    if (generate.errors > 0) throw new Error(`generate-data-key: ${generate.errors} failed requests, first: ${generate.firstError}`);

    // Baseline (a): the same L2 unwrap the worker did once, straight through a provider, CLIENTS at a time.
    const raw = newProvider();
    const aad = l1Aad(TENANT, LINK, parsed.l2Id);
    // Blob v2 (key hierarchy) names its L2 key without carrying it: the wrapped L2 comes from the registry.
    const wrappedL2 = parsed.wrappedL2;
    if (!wrappedL2) throw new Error('this bench still expects v1 blobs with the wrapped L2 inside; it needs the tenant-key registry (the bridge) to run with blob v2');
    const check = await raw.unwrap(l1, wrappedL2, aad);
    if (check.length !== 32) throw new Error('raw PKCS#11 unwrap returned a key of the wrong size');
    await timedConcurrent(CLIENTS, 1, async () => void (await raw.unwrap(l1, wrappedL2, aad)).fill(0));
    const pkcs11 = await timedConcurrent(CLIENTS, SECONDS, async () => void (await raw.unwrap(l1, wrappedL2, aad)).fill(0));

    // Baseline (b): AES-256-GCM decrypt of a 32-byte key, one thread; AAD as long as the worker's data AAD.
    const dataAadBytes = 'cmk-dk-v1'.length + 2 + Buffer.byteLength(TENANT) + 2 + Buffer.byteLength(SYSTEM) + parsed.header.length;
    rawAesGcm(1, dataAadBytes);
    const aes = rawAesGcm(SECONDS, dataAadBytes);

    const ms = (n: number) => `${fmt(n, 2)} ms`;
    report(`Unwrap through the regional worker API (SoftHSM2 L1, ${CLIENTS} keep-alive clients, ${SECONDS} s each)`, [
      ['worker unwrap: ops/s', fmt(unwrap.opsPerS)],
      ['worker unwrap: p50 / p99', `${ms(unwrap.p50)} / ${ms(unwrap.p99)}`],
      ['worker unwrap: requests (all 200, plaintext checked)', fmt(unwrap.ok)],
      ['worker unwrap: HSM calls during the measurement', `${hsmDuringUnwrap} (L2 opened through L1 ${warmHsmUnwraps}× in the warm-up, then cached)`],
      ['worker generate-data-key: ops/s', fmt(generate.opsPerS)],
      ['worker generate-data-key: p50 / p99', `${ms(generate.p50)} / ${ms(generate.p99)}`],
      ['worker generate-data-key: HSM calls during the measurement', `${hsmDuringGenerate} (own L2 wrapped by L1 ${benchHsm.calls.wrap}× in the warm-up)`],
      [`(a) raw PKCS#11 unwrap of the L2 (Pkcs11KeyProvider, ${CLIENTS} concurrent): ops/s`, fmt(pkcs11.opsPerS)],
      ['(a) raw PKCS#11 unwrap: p50 / p99', `${ms(pkcs11.p50)} / ${ms(pkcs11.p99)}`],
      ['(b) raw AES-256-GCM decrypt of 32 bytes (node:crypto, one thread): ops/s', `${fmt(aes.opsPerS)} (${fmt(aes.nsPerOp)} ns/op)`],
      ['worker unwrap ÷ (a) raw PKCS#11 unwrap', `${fmt(unwrap.opsPerS / pkcs11.opsPerS, 2)}×`],
      ['worker unwrap ÷ (b) raw AES-GCM decrypt', `${fmt(unwrap.opsPerS / aes.opsPerS, 4)}× (1 in ${fmt(aes.opsPerS / unwrap.opsPerS)})`],
      ['worker generate-data-key ÷ worker unwrap', `${fmt(generate.opsPerS / unwrap.opsPerS, 2)}×`],
      ['PKCS#11 adapter settings', `callMode async (libuv pool, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}), maxSessions 8 (default)`],
    ]);
  } finally {
    for (const close of closers) await close();
  }
}

/** `count` generate-data-key calls, one at a time, from the main thread (setup only). */
async function runLoadDirect(url: string, token: string, count: number): Promise<{ plaintext: string; ciphertextBlob: string }[]> {
  const out: { plaintext: string; ciphertextBlob: string }[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/v1/data-keys`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { plaintext: string; ciphertextBlob: string };
    if (res.status !== 200) throw new Error(`minting a data key failed: ${res.status} ${JSON.stringify(body)}`);
    out.push(body);
  }
  return out;
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  runLoad(workerData as LoadJob).then((r) => parentPort?.postMessage(r, [r.latenciesMs.buffer as ArrayBuffer]));
}
