import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';

const run = promisify(execFile);
// From the sources (test/support) or from the bench build (dist/test/support).
const SCRIPT = [join(__dirname, '../../deploy/local/local-kms.sh'), join(__dirname, '../../../deploy/local/local-kms.sh')].find((p) => existsSync(p)) ??
  join(__dirname, '../../deploy/local/local-kms.sh');

/** local-kms, the AWS KMS emulator, started by deploy/local/local-kms.sh: its endpoint and data directory (its handle). */
export interface LocalKms {
  endpoint: string;
  dir: string;
  region: string;
  accountId: string;
}

export interface StartLocalKmsOptions {
  /** Data directory; default a new temporary one. */
  dir?: string;
  region?: string;
  accountId?: string;
  /** local-kms seeding YAML, written to DIR/seed.yaml before the first start. */
  seedYaml?: string;
}

async function script(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run(SCRIPT, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`deploy/local/local-kms.sh ${args.join(' ')} failed:\n${stderr ?? String(error)}`);
  }
}

/**
 * Builds local-kms once (go install, cached) and starts it on a free port. Throws when it cannot: suites that
 * need it fail, they never skip.
 */
export async function startLocalKms(options: StartLocalKmsOptions = {}): Promise<LocalKms> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cmk-local-kms-'));
  const region = options.region ?? 'eu-central-1';
  const accountId = options.accountId ?? '111122223333';
  if (options.seedYaml !== undefined) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'seed.yaml'), options.seedYaml);
  }
  const env = { CMK_LOCAL_KMS_REGION: region, CMK_LOCAL_KMS_ACCOUNT_ID: accountId };
  try {
    return { endpoint: await script(['start', dir], env), dir, region, accountId };
  } catch (error) {
    await script(['stop', dir]).catch(() => undefined);
    throw error;
  }
}

/** Stops the emulator but keeps its keys and port: the service is down until {@link restartLocalKms}. */
export async function haltLocalKms(kms: LocalKms): Promise<void> {
  await script(['halt', kms.dir]);
}

/** Starts a halted (or running) emulator again on the same port with the same keys. */
export async function restartLocalKms(kms: LocalKms): Promise<LocalKms> {
  const env = { CMK_LOCAL_KMS_REGION: kms.region, CMK_LOCAL_KMS_ACCOUNT_ID: kms.accountId };
  return { ...kms, endpoint: await script(['restart', kms.dir], env) };
}

/** Stops the emulator and deletes its data. */
export async function stopLocalKms(kms: LocalKms | string): Promise<void> {
  await script(['stop', typeof kms === 'string' ? kms : kms.dir]);
}

/**
 * A raw SDK client on the emulator, for what a customer does in their own account (create, disable, alias keys)
 * and for benchmark baselines. local-kms checks no signatures; the credentials only satisfy the SDK.
 */
export function localKmsClient(kms: LocalKms, options: { maxAttempts?: number } = {}): KMSClient {
  return new KMSClient({
    region: kms.region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: 'local-kms-admin', secretAccessKey: 'local-kms-admin' },
    maxAttempts: options.maxAttempts ?? 1,
  });
}

/** An ARN of a key that does not exist in the emulator's region and account. */
export function missingLocalKmsKeyArn(kms: LocalKms): string {
  return `arn:aws:kms:${kms.region}:${kms.accountId}:key/00000000-0000-4000-8000-000000000000`;
}
