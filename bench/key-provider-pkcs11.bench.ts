/**
 * The PKCS#11 KeyProvider against a real SoftHSM2 token, next to the raw pkcs11js calls it makes: AES-256-GCM
 * C_EncryptInit + C_EncryptAsync / C_DecryptInit + C_DecryptAsync on the same key, one logged-in session per
 * worker. The difference is what CMK adds (reference parsing, handle cache, session pool, typed errors).
 *
 *   npx swc bench test/support libs -d dist --config-file .swcrc --only '**\/*.ts' --quiet
 *   node dist/bench/key-provider-pkcs11.bench.js          (CMK_BENCH_CONCURRENCY, default 16)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { formatPkcs11KeyRef, Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { Pkcs11Module } from '@cmk/key-providers/pkcs11/pkcs11-module';
import { applySoftHsmEnv, parseShellAssignments, SoftHsmEnv } from '@cmk/testing/softhsm';
import { benchKeyProvider, RawCalls } from './key-provider-bench';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** deploy/local/softhsm.sh from the repository root (test/support's initSoftHsm resolves it from src, not dist). */
function initToken(): { dir: string; env: SoftHsmEnv } {
  const dir = mkdtempSync(join(process.env.CMK_BENCH_DIR ?? tmpdir(), 'softhsm-'));
  const script = join(__dirname, '../../deploy/local/softhsm.sh');
  const out = execFileSync(script, ['init', join(dir, 'hsm'), `bench-${randomBytes(4).toString('hex')}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const env = parseShellAssignments(out) as unknown as SoftHsmEnv;
  for (const key of ['SOFTHSM2_CONF', 'CMK_PKCS11_MODULE', 'CMK_PKCS11_TOKEN_LABEL', 'CMK_PKCS11_PIN'] as const) {
    if (!env[key]) throw new Error(`deploy/local/softhsm.sh init printed no ${key}`);
  }
  return { dir, env };
}

/**
 * The raw side: sessions opened and logged in here, the AES key generated on the token (sensitive,
 * non-extractable, as an HSM administrator would), and one session per in-flight call, reused.
 */
async function rawSide(env: SoftHsmEnv, label: string, concurrency: number): Promise<{ raw: RawCalls; close(): void }> {
  const module = Pkcs11Module.acquire(env.CMK_PKCS11_MODULE);
  module.ensureInitialized();
  const { lib } = module;
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === env.CMK_PKCS11_TOKEN_LABEL);
  if (!slot) throw new Error(`no token labelled ${env.CMK_PKCS11_TOKEN_LABEL}`);
  const sessions = Array.from({ length: concurrency }, () => lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
  lib.C_Login(sessions[0], pkcs11js.CKU_USER, env.CMK_PKCS11_PIN);
  const key = lib.C_GenerateKey(sessions[0], { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: randomBytes(8) },
  ]);
  const free = [...sessions];
  const withSession = async <T>(op: (session: Buffer) => Promise<T>): Promise<T> => {
    const session = free.pop();
    if (!session) throw new Error('more calls in flight than sessions');
    try {
      return await op(session);
    } finally {
      free.push(session);
    }
  };
  const gcm = (iv: Buffer, aad: Buffer): pkcs11js.Mechanism => ({
    mechanism: pkcs11js.CKM_AES_GCM,
    parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv, ivBits: IV_BYTES * 8, tagBits: TAG_BYTES * 8, aad } as pkcs11js.AesGCM,
  });
  const raw: RawCalls = {
    wrap: (plaintext, aad) =>
      withSession(async (session) => {
        const iv = randomBytes(IV_BYTES);
        lib.C_EncryptInit(session, gcm(iv, aad), key);
        return Buffer.concat([iv, await lib.C_EncryptAsync(session, plaintext, Buffer.alloc(plaintext.length + TAG_BYTES))]);
      }),
    unwrap: (wrapped, aad) =>
      withSession(async (session) => {
        const blob = wrapped as Buffer;
        lib.C_DecryptInit(session, gcm(blob.subarray(0, IV_BYTES), aad), key);
        const body = blob.subarray(IV_BYTES);
        return lib.C_DecryptAsync(session, body, Buffer.alloc(body.length));
      }),
  };
  return {
    raw,
    close: () => {
      for (const s of sessions) lib.C_CloseSession(s);
      module.release();
    },
  };
}

async function main(): Promise<void> {
  const concurrency = Number(process.env.CMK_BENCH_CONCURRENCY ?? 16);
  const { dir, env } = initToken();
  let close: (() => void) | undefined;
  let provider: Pkcs11KeyProvider | undefined;
  try {
    await applySoftHsmEnv(env);
    const label = 'bench-l1';
    const side = await rawSide(env, label, concurrency);
    close = side.close;
    // Same session bound as the raw side, so the comparison is about the adapter, not about parallelism.
    provider = new Pkcs11KeyProvider({ modulePath: env.CMK_PKCS11_MODULE, tokenLabel: env.CMK_PKCS11_TOKEN_LABEL, pin: 'env:CMK_PKCS11_PIN', maxSessions: concurrency });
    process.stdout.write(
      `# SoftHSM2 ${env.CMK_PKCS11_MODULE}, ${cpus().length} cores, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, node ${process.version}\n`,
    );
    await benchKeyProvider({
      name: `pkcs11 (SoftHSM2 2.6, AES-256-GCM, callMode async, ${concurrency} sessions each side)`,
      provider,
      ref: formatPkcs11KeyRef({ token: env.CMK_PKCS11_TOKEN_LABEL, object: label }),
      raw: side.raw,
      concurrency,
    });
  } finally {
    await provider?.close();
    close?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
