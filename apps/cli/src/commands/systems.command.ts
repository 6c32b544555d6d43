import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { contextOf, listAll } from './context';

export function systemsCommand(io: CliIo): Command {
  const c = new Command('systems').description('systems (workloads) allowed to use a tenant key');
  c.command('list')
    .option('--tenant <tenantId>')
    .option('--region <region>')
    .option('--status <status>')
    .option('--key-link <keyLinkId>')
    .option('--limit <n>')
    .option('--all')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/systems', { tenantId: o.tenant, region: o.region, status: o.status, keyLinkId: o.keyLink, limit: o.limit }, Boolean(o.all));
      ctx.out.table(page.items, ['systemId', 'tenantId', 'name', 'region', 'keyLinkId', 'status'], page);
    });
  c.command('get <systemId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    ctx.out.record(await ctx.api.get(`/v1/systems/${encodeURIComponent(id)}`));
  });
  c.command('register')
    .requiredOption('--tenant <tenantId>')
    .requiredOption('--name <name>')
    .requiredOption('--region <region>')
    .requiredOption('--key-link <keyLinkId>')
    .option('--id <uuid>')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/tenants/${encodeURIComponent(o.tenant)}/systems`, { systemId: o.id, name: o.name, region: o.region, keyLinkId: o.keyLink }), 'system');
    });
  c.command('deregister <systemId>')
    .requiredOption('--reason <text>')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/systems/${encodeURIComponent(id)}/deregister`, { reason: o.reason }), 'system');
    });
  c.command('rebind <systemId>')
    .requiredOption('--key-link <keyLinkId>')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/systems/${encodeURIComponent(id)}/rebind`, { keyLinkId: o.keyLink }), 'system');
    });
  return c;
}
