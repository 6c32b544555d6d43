import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '../../..');

/**
 * The bridge as its own process, built the way scripts/build.sh builds dist (swc, same .swcrc), but into a
 * temporary directory so a test neither needs nor disturbs a prior `npm run build`. The output lives outside
 * the repository, so NODE_PATH points the child at the repository's node_modules.
 */
export async function buildBridge(): Promise<{ main: string; remove(): void }> {
  const out = mkdtempSync(join(tmpdir(), 'cmk-bridge-build-'));
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/swc'),
    ['apps/mesh-bridge/src', 'libs', '-d', out, '--config-file', '.swcrc', '--only', '**/*.ts', '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/testing/**', '--quiet'],
    { cwd: ROOT },
  );
  return { main: join(out, 'apps/mesh-bridge/src/main.js'), remove: () => rmSync(out, { recursive: true, force: true }) };
}

export class BridgeProcess {
  /** Everything the process wrote to stderr and stdout (pino writes to stdout), for a failing test's message. */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static start(main: string, env: Record<string, string>): BridgeProcess {
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new BridgeProcess(child);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }
}
