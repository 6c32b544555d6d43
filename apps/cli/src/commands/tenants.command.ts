import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { collect, contextOf, isoTime, listAll } from './context';
import { addTenantAsOfCommand } from './time-travel';

function contact(spec: string) {
  const m = /^\s*(.+?)\s*<([^>]+)>\s*$/.exec(spec);
  if (!m) throw new UsageError(`--contact must look like "Name <email>" (got "${spec}")`);
  return { name: m[1], email: m[2] };
}

export function tenantsCommand(io: CliIo): Command {
  const c = new Command('tenants').description('tenant registry');
  addTenantAsOfCommand(c, io);
  c.command('list')
    .option('--status <status>')
    .option('--jurisdiction <code>')
    .option('--limit <n>')
    .option('--all', 'follow every page')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/tenants', { status: o.status, jurisdiction: o.jurisdiction, limit: o.limit }, Boolean(o.all));
      ctx.out.table(page.items, ['tenantId', 'displayName', 'jurisdiction', 'homeRegion', 'status', 'revision'], page);
    });
  c.command('get <tenantId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    ctx.out.record(await ctx.api.get(`/v1/tenants/${encodeURIComponent(id)}`));
  });
  c.command('onboard')
    .requiredOption('--name <displayName>')
    .requiredOption('--jurisdiction <code>', 'EU, US, UK, CH, CA, APAC, LATAM, MEA')
    .requiredOption('--region <homeRegion>')
    .requiredOption('--classification <class>', 'public, internal, confidential, restricted')
    .option('--contact <"Name <email>">', 'repeatable', collect, [])
    .option('--id <uuid>')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { tenantId: o.id, displayName: o.name, jurisdiction: o.jurisdiction, homeRegion: o.region, dataClassification: o.classification, contacts: o.contact.map(contact) };
      ctx.out.done(await ctx.api.send('POST', '/v1/tenants', body), 'tenant');
    });
  c.command('update <tenantId>')
    .option('--name <displayName>')
    .option('--region <homeRegion>')
    .option('--classification <class>')
    .option('--contact <"Name <email>">', 'repeatable; replaces the contact list', collect)
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { displayName: o.name, homeRegion: o.region, dataClassification: o.classification, contacts: o.contact?.map(contact) };
      if (Object.values(body).every((v) => v === undefined)) throw new UsageError('nothing to update: give --name, --region, --classification or --contact');
      ctx.out.done(await ctx.api.send('PATCH', `/v1/tenants/${encodeURIComponent(id)}`, body), 'tenant');
    });
  for (const [verb, needsReason] of [['suspend', true], ['resume', false], ['offboard', true]] as const) {
    const sub = c.command(`${verb} <tenantId>`);
    (needsReason ? sub.requiredOption('--reason <text>') : sub.option('--reason <text>')).action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/tenants/${encodeURIComponent(id)}/${verb}`, { reason: o.reason }), 'tenant');
    });
  }
  c.command('state <tenantId>')
    .requiredOption('--as-of <time>', 'ISO time', isoTime('--as-of'))
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const state = await ctx.api.get(`/v1/tenants/${encodeURIComponent(id)}/state`, { asOf: o.asOf });
      if (ctx.out.json) return ctx.out.raw(state);
      ctx.out.line(`tenant ${id} as of ${state.asOf} (through position ${state.position})`);
      ctx.out.record({ status: state.tenant?.status, displayName: state.tenant?.displayName, jurisdiction: state.tenant?.jurisdiction });
      ctx.out.table(state.keyLinks, ['keyLinkId', 'status', 'providerKind', 'mode', 'algorithm', 'keySize']);
      ctx.out.table(state.systems, ['systemId', 'name', 'region', 'keyLinkId', 'status']);
      ctx.out.line(`could decrypt: ${state.couldDecrypt.map((s: { name: string }) => s.name).join(', ') || 'nobody'}`);
    });
  return c;
}
