import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { contextOf } from './context';

const day = (name: string) => (value: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`${name} must be a date YYYY-MM-DD (got "${value}")`);
  return value;
};

export function usageCommand(io: CliIo): Command {
  return new Command('usage')
    .description('operations counted by the regional workers, for billing')
    .option('--tenant <tenantId>')
    .option('--system <systemId>')
    .option('--from <YYYY-MM-DD>', 'first UTC day, inclusive', day('--from'))
    .option('--to <YYYY-MM-DD>', 'last UTC day, inclusive', day('--to'))
    .option('--daily', 'one line per day')
    .option('--csv', 'print CSV (for billing systems)')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const query = { tenantId: o.tenant, systemId: o.system, from: o.from, to: o.to, granularity: o.daily ? 'day' : 'total' };
      if (o.csv) {
        // Not JSON, so the client hands the CSV text back as it came.
        ctx.io.stdout.write(await ctx.api.get<string>('/v1/usage', { ...query, format: 'csv' }));
        return;
      }
      const result = await ctx.api.get('/v1/usage', query);
      ctx.out.table(result.items, [...(o.daily ? ['day'] : []), 'tenantId', 'systemId', 'operation', 'outcome', 'count'], result);
    });
}
