import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { KeyProvider, KeyRef } from '@cmk/key-providers';
import { fmt, percentile, report } from './bench-util';

/**
 * Wrap and unwrap through a KeyProvider adapter against the same stand-in as the raw SDK call (the baseline), in
 * one run, interleaved in rounds so drift on this noisy machine hits both alike. What CMK adds is the adapter's
 * overhead over the raw call; the target is under 10 %.
 */
export interface RawCalls {
  /** The raw provider call with nothing of CMK in between (the SDK or PKCS#11 call the adapter makes). */
  wrap(plaintext: Buffer, aad: Buffer): Promise<unknown>;
  /** Unwraps what `wrap` returned. */
  unwrap(wrapped: unknown, aad: Buffer): Promise<unknown>;
}

export interface KeyProviderBenchInput {
  /** e.g. `aws-kms (local-kms emulator)` */
  name: string;
  provider: KeyProvider;
  ref: KeyRef;
  raw: RawCalls;
  concurrency?: number;
  /** Operations per measured round and per side. */
  perRound?: number;
  rounds?: number;
}

interface Sample {
  ops: number;
  seconds: number;
  latencies: number[];
}

async function measure(concurrency: number, total: number, op: () => Promise<unknown>): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ops: total, seconds: (performance.now() - started) / 1000, latencies };
}

function merge(samples: Sample[]): { opsPerSecond: number; p50: number; p99: number } {
  const ops = samples.reduce((n, s) => n + s.ops, 0);
  const seconds = samples.reduce((n, s) => n + s.seconds, 0);
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  return { opsPerSecond: ops / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function benchKeyProvider(input: KeyProviderBenchInput): Promise<void> {
  const concurrency = input.concurrency ?? 16;
  const perRound = input.perRound ?? 1000;
  const rounds = input.rounds ?? 5;
  const plaintext = randomBytes(32);
  const aad = Buffer.from('bench-aad');
  const adapterCiphertext = (await input.provider.wrap(input.ref, plaintext, aad)).ciphertext;
  const rawWrapped = await input.raw.wrap(plaintext, aad);
  // Warm-up: connections, JIT, sessions.
  await measure(concurrency, perRound / 2, () => input.provider.wrap(input.ref, plaintext, aad));
  await measure(concurrency, perRound / 2, () => input.raw.wrap(plaintext, aad));

  const sides = {
    adapterWrap: [] as Sample[],
    rawWrap: [] as Sample[],
    adapterUnwrap: [] as Sample[],
    rawUnwrap: [] as Sample[],
  };
  for (let round = 0; round < rounds; round++) {
    sides.rawWrap.push(await measure(concurrency, perRound, () => input.raw.wrap(plaintext, aad)));
    sides.adapterWrap.push(await measure(concurrency, perRound, () => input.provider.wrap(input.ref, plaintext, aad)));
    sides.rawUnwrap.push(await measure(concurrency, perRound, () => input.raw.unwrap(rawWrapped, aad)));
    sides.adapterUnwrap.push(await measure(concurrency, perRound, () => input.provider.unwrap(input.ref, adapterCiphertext, aad)));
  }
  const rows: [string, string][] = [];
  for (const op of ['wrap', 'unwrap'] as const) {
    const adapter = merge(op === 'wrap' ? sides.adapterWrap : sides.adapterUnwrap);
    const raw = merge(op === 'wrap' ? sides.rawWrap : sides.rawUnwrap);
    const overhead = (raw.opsPerSecond / adapter.opsPerSecond - 1) * 100;
    rows.push(
      [`${op}: raw provider call`, `${fmt(raw.opsPerSecond)} ops/s, p50 ${fmt(raw.p50, 2)} ms, p99 ${fmt(raw.p99, 2)} ms`],
      [`${op}: through the adapter`, `${fmt(adapter.opsPerSecond)} ops/s, p50 ${fmt(adapter.p50, 2)} ms, p99 ${fmt(adapter.p99, 2)} ms`],
      [`${op}: adapter overhead (throughput; target < 10 %)`, `${fmt(overhead, 1)} %; p99 ratio ${fmt(adapter.p99 / raw.p99, 2)}`],
    );
  }
  report(`KeyProvider ${input.name}: ${rounds} interleaved rounds x ${perRound} ops per side, ${concurrency} in flight`, rows);
}
