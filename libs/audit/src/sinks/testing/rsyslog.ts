import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = resolve(__dirname, '../../../../../deploy/local/rsyslog.sh');

/**
 * A real rsyslogd as a child process of the test, configured by deploy/local/rsyslog.sh: imtcp on a free port
 * (and a gtls TLS port when rsyslog-gnutls is installed), every message written to one file with the RFC 5424
 * template. Starting throws (so the suite fails) when rsyslog is missing or does not listen.
 */
export class RsyslogServer {
  private child: ChildProcess | null = null;
  private stderr = '';

  private constructor(
    readonly binary: string,
    readonly dir: string,
    readonly conf: string,
    readonly port: number,
    readonly output: string,
    readonly tlsPort: number | undefined,
    readonly caFile: string | undefined,
  ) {}

  static async start(): Promise<RsyslogServer> {
    const dir = await mkdtemp(join(tmpdir(), 'cmk-rsyslog-'));
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)('bash', [SCRIPT, 'prepare', dir], { timeout: 300_000 }));
    } catch (e) {
      throw new Error(`rsyslog cannot be prepared (${SCRIPT} prepare): ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
    const vars = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    const server = new RsyslogServer(
      vars.CMK_RSYSLOGD,
      dir,
      vars.CMK_RSYSLOG_CONF,
      Number(vars.CMK_RSYSLOG_PORT),
      vars.CMK_RSYSLOG_OUTPUT,
      vars.CMK_RSYSLOG_TLS_PORT ? Number(vars.CMK_RSYSLOG_TLS_PORT) : undefined,
      vars.CMK_RSYSLOG_CA,
    );
    await server.launch();
    return server;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts rsyslogd again with the same configuration, ports and output file. */
  async launch(): Promise<void> {
    if (this.child) throw new Error('rsyslogd is already running');
    // A pid file left by a killed rsyslogd would make the new one refuse to start.
    await rm(join(this.dir, 'rsyslogd.pid'), { force: true });
    const child = spawn(this.binary, ['-n', '-f', this.conf, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d) => (this.stderr += String(d)));
    child.stderr!.on('data', (d) => (this.stderr += String(d)));
    const exited = new Promise<string>((r) => {
      child.once('exit', (code, signal) => r(`rsyslogd exited (${signal ?? code})`));
      child.once('error', (e) => r(`rsyslogd cannot be started: ${e.message}`));
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const early = await Promise.race([exited, sleep(50).then(() => null)]);
      if (early) {
        this.child = null;
        throw new Error(`${early}: ${this.stderr.trim()}`);
      }
      if ((await canConnect(this.port)) && (this.tlsPort === undefined || (await canConnect(this.tlsPort)))) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`rsyslogd did not listen on port ${this.port} within 15 s: ${this.stderr.trim()}`);
      }
    }
  }

  /** Kills rsyslogd (SIGKILL by default: no graceful flush) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await gone;
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The lines rsyslog wrote so far. */
  async lines(): Promise<string[]> {
    const text = await readFile(this.output, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    return text.split('\n').filter((l) => l.length > 0);
  }

  async waitForLines(count: number, timeoutMs = 20_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.lines();
      if (lines.length >= count) return lines;
      if (Date.now() > deadline) throw new Error(`rsyslog wrote ${lines.length} lines, expected ${count}`);
      await sleep(25);
    }
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
