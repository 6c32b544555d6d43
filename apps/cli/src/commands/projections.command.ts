import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { CliIo } from '../http-client';
import { CliError, ExitCode } from '../errors';
import { contextOf, int } from './context';

interface Status {
  name: string;
  position: string;
  headPosition: string;
  lag: number;
  status: string;
  lastError?: string;
  rebuild?: { rebuildId: string; processed: number; total: number; done: boolean };
}

export function projectionsCommand(io: CliIo, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Command {
  const c = new Command('projections').description('read-model projections');
  c.command('list').action(async (_o, cmd) => {
    const ctx = contextOf(cmd, io);
    const res = await ctx.api.get<{ items: Status[] }>('/v1/admin/projections');
    ctx.out.table(res.items as unknown as Record<string, unknown>[], ['name', 'status', 'position', 'headPosition', 'lag', 'lastError'], res);
  });
  c.command('rebuild <name>')
    .description('rebuild one projection, or "all" of them in one pass over the log')
    .option('--interval <ms>', 'progress poll interval', int('--interval'), 250)
    .option('--timeout <s>', 'give up after this many seconds', int('--timeout'), 3600)
    .action(async (name, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const all = name === 'all';
      const { rebuildId } = await ctx.api.send<{ rebuildId: string }>('POST', all ? '/v1/admin/projections/rebuild' : `/v1/admin/projections/${encodeURIComponent(name)}/rebuild`);
      // A progress bar for people at a terminal; plain progress lines for pipes and --json.
      const bar = !ctx.out.json && io.stdout.isTTY ? new SingleBar({ format: `rebuild ${name} [{bar}] {percentage}% {value}/{total} events`, stream: io.stdout as NodeJS.WritableStream }) : undefined;
      const deadline = Date.now() + o.timeout * 1000;
      let started = false;
      for (;;) {
        const { items } = await ctx.api.get<{ items: Status[] }>('/v1/admin/projections');
        const mine = items.filter((x) => (all ? x.rebuild?.rebuildId === rebuildId : x.name === name));
        // For "all", progress is that of the slowest projection.
        const s = mine.reduce<Status | undefined>((slowest, x) => (!slowest || (x.rebuild?.processed ?? 0) < (slowest.rebuild?.processed ?? 0) ? x : slowest), undefined);
        const failing = mine.find((x) => x.status === 'failing');
        const r = s?.rebuild && mine.every((x) => x.rebuild?.done) ? { ...s.rebuild, done: true } : s?.rebuild ? { ...s.rebuild, done: false } : undefined;
        if (r && r.rebuildId === rebuildId) {
          if (bar && !started) bar.start(Math.max(r.total, 1), 0);
          started = true;
          if (bar) bar.update(Math.min(r.processed, Math.max(r.total, 1)));
          else if (!ctx.out.json) ctx.out.line(`rebuild ${name}: ${r.processed}/${r.total} events`);
          if (r.done) {
            bar?.stop();
            if (ctx.out.json) ctx.out.raw({ name, rebuildId, processed: r.processed, total: r.total, done: true });
            else ctx.out.line(`rebuild ${name} done: ${r.total} events`);
            return;
          }
        }
        if (failing) {
          bar?.stop();
          throw new CliError(`error: projection ${failing.name} is failing: ${failing.lastError ?? 'unknown error'}`, ExitCode.failure);
        }
        if (Date.now() > deadline) {
          bar?.stop();
          throw new CliError(`error: rebuild of ${name} did not finish within ${o.timeout}s`, ExitCode.unavailable);
        }
        await sleep(o.interval);
      }
    });
  return c;
}
