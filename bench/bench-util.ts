/** Small helpers shared by the benchmark scripts. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function benchDatabaseUrl(): string {
  const url = process.env.CMK_BENCH_DATABASE_URL;
  if (!url) throw new Error('CMK_BENCH_DATABASE_URL is not set: run benchmarks with `npm run bench`');
  return url;
}

export async function runConcurrently(concurrency: number, total: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        await task(i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function report(title: string, rows: [string, string | number][]): void {
  process.stdout.write(`\n## ${title}\n\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
