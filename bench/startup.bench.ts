/**
 * Embedded `npm start` to ready, warm: the built control plane is started on an existing embedded data
 * directory and timed until /health/ready answers 200. Baseline in the same run: a bare `node -e` start.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, percentile, report } from './bench-util';

const MAIN = join(__dirname, '../apps/control-plane/src/main.js');

async function startOnce(dataDir: string, port: number, command: string[] = [process.execPath, MAIN]): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command[0], command.slice(1), { detached: true, env: { ...process.env, CMK_DATA_DIR: dataDir, CMK_PORT: String(port), CMK_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        if (res.status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      } catch {
        /* not listening yet */
      }
      if (child.exitCode !== null) throw new Error(`control plane exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await new Promise((r) => child.once('exit', r));
  }
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'cmk-startup-'));
  const port = 18000 + Math.floor(Math.random() * 1000);
  try {
    const cold = await startOnce(dataDir, port);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) warm.push(await startOnce(dataDir, port));
    const nodeBaseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      nodeBaseline.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const npmStart: number[] = [];
    for (let i = 0; i < 3; i++) npmStart.push(await startOnce(dataDir, port, ['bash', join(__dirname, '../../scripts/start.sh')]));
    npmStart.sort((a, b) => a - b);
    warm.sort((a, b) => a - b);
    nodeBaseline.sort((a, b) => a - b);
    report('Embedded start to ready (`node dist/apps/control-plane/src/main.js`, PGlite data dir)', [
      ['cold start (new data dir) ms', fmt(cold)],
      ['warm start p50 ms (5 runs)', fmt(percentile(warm, 50))],
      ['warm start max ms', fmt(warm[warm.length - 1])],
      ['warm `npm start` (scripts/start.sh: dependency check + swc build + start) p50 ms (3 runs)', fmt(percentile(npmStart, 50))],
      ['baseline: bare node start p50 ms', fmt(percentile(nodeBaseline, 50))],
      ['target', 'warm <= 3000 ms'],
    ]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
