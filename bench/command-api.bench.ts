/**
 * Command API throughput with 32 concurrent clients on PostgreSQL, and projection lag under that load.
 *
 * The control plane runs in a child process (as in production); this process is the load generator. Lag is
 * measured from outside: a probe takes the position of a command that has just been answered and polls the
 * projection checkpoints until every projection has passed it. Baseline in the same run: raw single-row
 * INSERT ... commit throughput through `pg` with the same concurrency.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DevIssuer } from '@cmk/auth';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { benchDatabaseUrl, fmt, percentile, report, runConcurrently } from './bench-util';

const CLIENTS = 32;
const DURATION_S = Number(process.env.CMK_BENCH_SECONDS ?? 20);
const MAIN = join(__dirname, '../apps/control-plane/src/main.js');

async function main() {
  const url = benchDatabaseUrl();
  const suffix = randomUUID().slice(0, 8);
  const es = `bench_es_${suffix}`;
  const rm = `bench_rm_${suffix}`;
  const issuer = await DevIssuer.open({ issuer: 'urn:bench', audience: 'openkcm-cmk' });
  const jwks = createServer((_q, r) => r.end(JSON.stringify(issuer.jwks)));
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const port = 19000 + Math.floor(Math.random() * 1000);
  const child = spawn(process.execPath, [...(process.env.CMK_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.CMK_BENCH_PROFILE] : []), MAIN], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      CMK_MODE: 'postgres',
      CMK_DATABASE_URL: url,
      CMK_PORT: String(port),
      CMK_EVENT_STORE_SCHEMA: es,
      CMK_READ_MODEL_SCHEMA: rm,
      CMK_EVENT_STORE_APP_ROLE: `${es}_app`,
      CMK_AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/`,
      CMK_AUTH_ISSUER: 'urn:bench',
      CMK_LOG_LEVEL: 'warn',
      CMK_DATABASE_POOL_SIZE: '40',
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const pool = new Pool({ connectionString: url, max: CLIENTS + 2 });
  try {
    for (;;) {
      try {
        if ((await fetch(`${base}/health/ready`)).status === 200) break;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const token = await issuer.issue({ subject: 'bench', roles: ['platform-operator', 'key-admin', 'security-officer', 'auditor'] });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const tenantBody = (i: number) => JSON.stringify({ displayName: `Bench ${i}`, jurisdiction: 'EU', homeRegion: 'eu-central-1', dataClassification: 'internal', contacts: [] });

    // Each client onboards its own tenant and then alternates updates (no conflicts by design) with new onboardings.
    let lastPosition = 0n;
    let lastAnswered = 0;
    const latencies: number[] = [];
    let errors = 0;
    const deadline = Date.now() + DURATION_S * 1000;
    let ops = 0;
    const probeLags: number[] = [];
    const probe = (async () => {
      while (Date.now() < deadline) {
        const target = lastPosition;
        const t0 = lastAnswered;
        if (target > 0n) {
          for (;;) {
            const { rows } = await pool.query(`SELECT min(position)::text AS p FROM "${rm}".projection_checkpoints`);
            if (rows[0].p !== null && BigInt(rows[0].p) >= target) break;
            await new Promise((r) => setTimeout(r, 2));
          }
          probeLags.push(performance.now() - t0);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        let tenantId: string | undefined;
        let i = 0;
        while (Date.now() < deadline) {
          const t = performance.now();
          const res =
            !tenantId || i % 4 === 0
              ? await fetch(`${base}/v1/tenants`, { method: 'POST', headers, body: tenantBody(c * 1e6 + i) })
              : await fetch(`${base}/v1/tenants/${tenantId}`, { method: 'PATCH', headers, body: JSON.stringify({ displayName: `Bench ${c}-${i}` }) });
          const body = (await res.json()) as { id?: string; position?: string };
          const done = performance.now();
          latencies.push(done - t);
          if (res.status >= 300) errors++;
          else {
            if (!tenantId) tenantId = body.id;
            const p = BigInt(body.position!);
            if (p > lastPosition) {
              lastPosition = p;
              lastAnswered = done;
            }
            ops++;
          }
          i++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await probe;
    latencies.sort((a, b) => a - b);
    probeLags.sort((a, b) => a - b);

    // Baseline: raw single-row INSERT + commit through pg with the same concurrency.
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_raw_${suffix} (id bigserial primary key, stream_name text, data jsonb, metadata jsonb)`);
    const rawN = 20000;
    const rawSeconds = await runConcurrently(CLIENTS, rawN, async (i) => {
      await pool.query(`INSERT INTO bench_raw_${suffix} (stream_name, data, metadata) VALUES ($1, $2, $3)`, [`tenant-${i}`, tenantBody(i), '{"actor":{"subject":"bench"}}']);
    });

    report(`Command API, ${CLIENTS} concurrent clients, PostgreSQL, ${DURATION_S}s (75% updates, 25% onboardings)`, [
      ['commands/s', fmt(ops / seconds)],
      ['errors', errors],
      ['command latency p50 / p99 ms', `${fmt(percentile(latencies, 50), 1)} / ${fmt(percentile(latencies, 99), 1)}`],
      ['projection lag p50 / p99 ms (answered command → all projections past it)', `${fmt(percentile(probeLags, 50), 1)} / ${fmt(percentile(probeLags, 99), 1)} (${probeLags.length} probes)`],
      ['baseline: raw INSERT+commit rows/s, same concurrency', fmt(rawN / rawSeconds)],
      ['ratio commands/s ÷ raw INSERT/s', fmt(ops / seconds / (rawN / rawSeconds), 2)],
      ['targets', '>= 1,000 commands/s; lag p99 <= 100 ms'],
    ]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await pool.end();
    jwks.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
