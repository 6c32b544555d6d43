/**
 * Local access decisions per second on one core (the regional worker's hot path), against two baselines run
 * in the same process: a bare Map lookup loop over the same tenant ids (the floor any decision pays) and raw
 * SHA-256 of 32 bytes (a cheap crypto primitive, for scale). Needs no database:
 *   npm run bench -- decision      or      npx swc bench libs -d dist --config-file .swcrc --only '**\/*.ts' -q && node dist/bench/decision.bench.js
 */
import { createHash, randomBytes } from 'node:crypto';
import { AccessRequest, decideAccess, KeyLinkView, TenantViewStore, TenantView } from '@cmk/orbital';
import { fmt, report } from './bench-util';

const TENANTS = Number(process.env.CMK_BENCH_TENANTS ?? 10_000);
const REQUESTS = 1 << 16;
const SECONDS = Number(process.env.CMK_BENCH_SECONDS ?? 2);
const REGION = 'eu-central-1';

function buildStore(): TenantViewStore {
  const store = new TenantViewStore(REGION);
  for (let t = 0; t < TENANTS; t++) {
    const tenantId = `tenant-${t}`;
    const keyLinks: Record<string, KeyLinkView> = {};
    const systems: TenantView['systems'] = {};
    for (let s = 0; s < 3; s++) {
      const keyLinkId = `${tenantId}-link-${s}`;
      keyLinks[keyLinkId] = { keyLinkId, status: s === 2 ? 'revoked' : 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=t;object=${keyLinkId}`, algorithm: 'AES', keySize: 256, providerRegion: REGION };
      systems[`sys-${s}`] = { systemId: `sys-${s}`, keyLinkId, region: REGION };
    }
    const view: TenantView = { tenantId, status: t % 50 === 0 ? 'suspended' : 'active', jurisdiction: 'EU', homeRegion: REGION, allowedRegions: t % 7 === 0 ? [REGION, 'us-east-1'] : null, maxStalenessMs: 2000, systems, keyLinks };
    store.applyState({ kind: 'tenant-state', position: String(t + 1), tenantId, removed: false, view });
  }
  store.markReady();
  return store;
}

/** A mix like production: mostly allowed, some unknown systems/tenants, suspended tenants and revoked links. */
function buildRequests(): AccessRequest[] {
  const ops = ['generate-data-key', 'wrap', 'unwrap'] as const;
  return Array.from({ length: REQUESTS }, (_, i) => {
    const t = (i * 7919) % (TENANTS + 100); // ~1% unknown tenants
    const s = i % 10 < 8 ? i % 2 : 2 + (i % 2); // 80 % on active links; sys-2's link is revoked, sys-3 is unknown
    return { tenantId: `tenant-${t}`, systemId: `sys-${s}`, operation: ops[i % 3] };
  });
}

/** Runs `body(i)` in batches until `SECONDS` passed; returns operations per second. */
function measure(body: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink ^= body(i & (REQUESTS - 1)) ? 1 : 0; // warm up (JIT)
  let ops = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(SECONDS * 1e9);
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 100_000; i++) sink ^= body((ops + i) & (REQUESTS - 1)) ? 1 : 0;
    ops += 100_000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink === 42) process.stdout.write(''); // keep `sink` alive
  return ops / seconds;
}

/**
 * Per-decision latency: each decision timed on its own with hrtime (whose own cost, measured on an empty body,
 * is reported beside it, since at ~100-200 ns per decision the clock read is of the same order).
 */
function latencies(body: (i: number) => unknown, samples = 200_000): { p50: number; p99: number; p999: number } {
  const ns = new Float64Array(samples);
  let sink = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    sink ^= body(i & (REQUESTS - 1)) ? 1 : 0;
    ns[i] = Number(process.hrtime.bigint() - t0);
  }
  if (sink === 42) process.stdout.write('');
  ns.sort();
  return { p50: ns[Math.floor(samples * 0.5)], p99: ns[Math.floor(samples * 0.99)], p999: ns[Math.floor(samples * 0.999)] };
}

function main(): void {
  const store = buildStore();
  const requests = buildRequests();
  const map = new Map<string, number>(Array.from({ length: TENANTS }, (_, t) => [`tenant-${t}`, t]));
  const blocks = Array.from({ length: 1024 }, () => randomBytes(32));
  const now = 1_000_000;
  const heard = now - 50;

  const allowed = requests.filter((r) => decideAccess(store, REGION, now, heard, r).allowed).length;
  const decisions = measure((i) => decideAccess(store, REGION, now, heard, requests[i]).allowed);
  const lookups = measure((i) => map.get(requests[i].tenantId));
  const sha = measure((i) => createHash('sha256').update(blocks[i & 1023]).digest()[0]);
  const each = latencies((i) => decideAccess(store, REGION, now, heard, requests[i]).allowed);
  const clock = latencies(() => 0);

  report(`Regional worker access decisions (one core, ${fmt(TENANTS)} tenants x 3 systems, ${fmt((allowed / REQUESTS) * 100, 1)} % allowed)`, [
    ['decideAccess decisions/s', fmt(decisions)],
    ['baseline: Map.get over the same tenant ids, lookups/s', fmt(lookups)],
    ['baseline: SHA-256 of 32 bytes, hashes/s', fmt(sha)],
    ['decision ÷ Map.get', fmt(decisions / lookups, 2)],
    ['decision ÷ SHA-256', fmt(decisions / sha, 1)],
    ['one decision timed alone p50 / p99 / p99.9 (ns, incl. the clock read)', `${fmt(each.p50)} / ${fmt(each.p99)} / ${fmt(each.p999)}`],
    ['baseline: the clock read alone p50 / p99 (ns)', `${fmt(clock.p50)} / ${fmt(clock.p99)}`],
    ['targets', '>= 200,000 decisions/s; p99 <= 20 µs (20,000 ns)'],
  ]);
  if (decisions < 200_000) {
    process.stderr.write(`decision rate ${fmt(decisions)}/s is below the 200,000/s target\n`);
    process.exitCode = 1;
  }
}

main();
