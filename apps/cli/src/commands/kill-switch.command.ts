import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { contextOf, int } from './context';

function scopeOf(o: Record<string, unknown>): Record<string, unknown> {
  const scope: Record<string, unknown> = {};
  if (o.tenant) scope.tenantId = o.tenant;
  if (o.jurisdiction) scope.jurisdiction = o.jurisdiction;
  if (o.provider) scope.providerKind = o.provider;
  if (o.providerRegion) scope.providerRegion = o.providerRegion;
  if (o.systemRegion) scope.systemRegion = o.systemRegion;
  if (o.everything) scope.all = true;
  if (Object.keys(scope).length !== 1) throw new UsageError('give exactly one of --tenant, --jurisdiction, --provider, --provider-region, --system-region, --everything');
  return scope;
}

const withScope = (c: Command) =>
  c
    .option('--tenant <tenantId>')
    .option('--jurisdiction <code>')
    .option('--provider <kind>')
    .option('--provider-region <region>', 'where the roots of trust live')
    .option('--system-region <region>', 'where the workloads run')
    .option('--everything', 'every key link of the platform');

export function killSwitchCommand(io: CliIo): Command {
  const c = new Command('kill-switch').description('the red button: blast radius, and revoking every key link in a scope');
  withScope(c.command('dry-run').description('what a kill switch over the scope would cut; changes nothing')).action(async (o, cmd) => {
    const ctx = contextOf(cmd, io);
    const radius = await ctx.api.send('POST', '/v1/kill-switch/dry-run', { scope: scopeOf(o) });
    ctx.out.table(radius.items, ['keyLinkId', 'tenantId', 'status', 'providerKind', 'providerRegion'], radius);
    if (!ctx.out.json) ctx.out.line(`${radius.keyLinks} key links of ${radius.tenants} tenants; ${radius.systems} systems in ${radius.regions.length} regions would lose access`);
  });
  withScope(c.command('fire').description('revoke every pending or active key link in the scope'))
    .requiredOption('--reason <text>')
    .requiredOption('--expect <n>', 'the number of key links the dry run reported (refused if the scope changed)', int('--expect'))
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const result = await ctx.api.send('POST', '/v1/kill-switch', { scope: scopeOf(o), reason: o.reason, expectedKeyLinks: o.expect });
      if (ctx.out.json) return ctx.out.raw(result);
      ctx.out.line(`kill switch ${result.killSwitchId}: ${result.revoked.length} of ${result.keyLinks} key links revoked, ${result.failed.length} failed (position ${result.position})`);
      for (const f of result.failed) ctx.out.line(`  failed ${f.keyLinkId}: ${f.error}`);
    });
  return c;
}
