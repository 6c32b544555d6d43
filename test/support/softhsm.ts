import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';

// From test/support under ts-jest, or from dist/test/support when a benchmark runs the compiled copy.
const SCRIPT = [join(__dirname, '../../deploy/local/softhsm.sh'), join(__dirname, '../../../deploy/local/softhsm.sh')].find((p) => existsSync(p)) ?? join(__dirname, '../../deploy/local/softhsm.sh');

/** The variables `deploy/local/softhsm.sh init` prints, ready to merge into `process.env`. */
export interface SoftHsmEnv {
  SOFTHSM2_CONF: string;
  CMK_PKCS11_MODULE: string;
  CMK_PKCS11_TOKEN_LABEL: string;
  CMK_PKCS11_PIN: string;
}

export interface SoftHsmToken {
  tokenLabel: string;
  /** User PIN, generated for this run. Never log it. */
  pin: string;
}

export interface SoftHsm extends SoftHsmToken {
  dir: string;
  modulePath: string;
  /** Path of the SoftHSM2 config; SoftHSM reads SOFTHSM2_CONF when the module is initialised. */
  configPath: string;
  env: SoftHsmEnv;
  /**
   * Initialises another token in the same SoftHSM2 config (same module, same SOFTHSM2_CONF). SoftHSM2 scans its
   * token directory in C_Initialize, so add tokens before the module is first initialised in this process.
   */
  addToken(label: string): SoftHsmToken;
  /** Removes the directory and every token in it. */
  destroy(): void;
}

export interface InitSoftHsmOptions {
  /** Token label; defaults to a random `cmk-<hex>`. At most 32 characters. */
  label?: string;
  /** Parent directory (the token directory is `<dir>/hsm`); defaults to a fresh temporary directory. */
  dir?: string;
}

/**
 * Sets the variables in `process.env`, and SOFTHSM2_CONF also in the real environment of the process, where the
 * SoftHSM2 library reads it with getenv() in C_Initialize. Under Jest `process.env` is a per-file copy that native
 * code never sees, so the real one is written from a worker thread sharing the process environment (SHARE_ENV).
 * The PIN stays in `process.env` only (the adapter resolves `env:CMK_PKCS11_PIN` there), so child processes do
 * not inherit it. Call before the first provider initialises the module, and close every provider at the end
 * of the file: Cryptoki state outlives a test file when Jest reuses the worker process.
 */
export async function applySoftHsmEnv(env: SoftHsmEnv): Promise<void> {
  Object.assign(process.env, env);
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker("Object.assign(process.env, require('node:worker_threads').workerData)", {
      eval: true,
      env: SHARE_ENV,
      workerData: { SOFTHSM2_CONF: env.SOFTHSM2_CONF },
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`env worker exited with ${code}`))));
  });
}

/**
 * Creates a real SoftHSM2 token in a temporary directory through `deploy/local/softhsm.sh` (which installs
 * Debian's softhsm2 when it is missing and we are root). Throws when SoftHSM2 cannot be set up: suites that need
 * it fail, they never skip. Pass `env` to {@link applySoftHsmEnv} before the PKCS#11 module is initialised
 * (SoftHSM2 reads SOFTHSM2_CONF in C_Initialize).
 */
export function initSoftHsm(options: InitSoftHsmOptions = {}): SoftHsm {
  const dir = options.dir ? join(options.dir, 'hsm') : mkdtempSync(join(tmpdir(), 'cmk-softhsm-'));
  const label = options.label ?? `cmk-${randomSuffix()}`;
  const env = runInit(dir, label);
  return {
    dir,
    modulePath: env.CMK_PKCS11_MODULE,
    configPath: env.SOFTHSM2_CONF,
    tokenLabel: env.CMK_PKCS11_TOKEN_LABEL,
    pin: env.CMK_PKCS11_PIN,
    env,
    addToken(tokenLabel: string): SoftHsmToken {
      const more = runInit(dir, tokenLabel);
      return { tokenLabel: more.CMK_PKCS11_TOKEN_LABEL, pin: more.CMK_PKCS11_PIN };
    },
    destroy(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runInit(dir: string, label: string): SoftHsmEnv {
  let out: string;
  try {
    out = execFileSync(SCRIPT, ['init', dir, label], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { status?: number; stderr?: string };
    throw new Error(
      `SoftHSM2 could not be set up (deploy/local/softhsm.sh init exited ${err.status ?? '?'}): ${String(err.stderr ?? '').trim()}`,
    );
  }
  const vars = parseShellAssignments(out);
  for (const key of ['SOFTHSM2_CONF', 'CMK_PKCS11_MODULE', 'CMK_PKCS11_TOKEN_LABEL', 'CMK_PKCS11_PIN'] as const) {
    if (!vars[key]) throw new Error(`deploy/local/softhsm.sh init printed no ${key}`);
  }
  return vars as unknown as SoftHsmEnv;
}

/** Reads the `KEY=VALUE` lines the script prints with bash's `printf %q` (backslash escapes, no `$'...'`). */
export function parseShellAssignments(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    const raw = m[2];
    if (raw.startsWith("$'")) throw new Error(`${m[1]} uses $'...' quoting, which this parser does not read`);
    vars[m[1]] = raw === "''" ? '' : raw.replace(/\\(.)/g, '$1');
  }
  return vars;
}

function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}
