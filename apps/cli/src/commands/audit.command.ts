import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { contextOf, Ctx, int, isoTime, listAll } from './context';
import { addAuditProofCommands } from './audit-proofs';
import { addWhoCouldDecryptCommand } from './time-travel';
import { isStoreVerification, runVerifyStore, withVerifyStoreOptions } from './audit-verify-store';
import { runVerifyBundle } from './audit-verify-bundle';
import { addAuditEvidenceCommand } from './audit-evidence';

interface AuditEvent {
  position: string;
  streamName: string;
  type: string;
  recordedAt: string;
  metadata?: { actor?: { subject?: string } };
}

const row = (e: AuditEvent) => ({ position: e.position, recordedAt: e.recordedAt, type: e.type, stream: e.streamName, actor: e.metadata?.actor?.subject ?? '' });
const COLUMNS = ['position', 'recordedAt', 'type', 'stream', 'actor'];

export function auditCommand(io: CliIo, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Command {
  const c = new Command('audit').description('the audit log: every governance event, with who did it');
  addAuditProofCommands(c, io);
  addWhoCouldDecryptCommand(c, io);
  withVerifyStoreOptions(c.command('verify').description('verify the audit log offline, without the service: a live store (--database-url, --data-dir) or an evidence bundle (--bundle)'))
    .option('--bundle <dir>', 'verify an evidence bundle written by `cmk audit evidence` (files only: no service, no database)')
    .action(async (o, cmd) => (o.bundle !== undefined && !isStoreVerification(o) ? runVerifyBundle(o, io, Boolean(cmd.optsWithGlobals().json)) : runVerifyStore(o, io, Boolean(cmd.optsWithGlobals().json))));
  addAuditEvidenceCommand(c, io);
  c.command('events')
    .option('--tenant <tenantId>')
    .option('--stream <name>')
    .option('--type <eventType>')
    .option('--actor <subject>')
    .option('--from <time>', 'ISO time', isoTime('--from'))
    .option('--to <time>', 'ISO time', isoTime('--to'))
    .option('--limit <n>')
    .option('--all')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/audit/events', { tenantId: o.tenant, stream: o.stream, type: o.type, actor: o.actor, from: o.from, to: o.to, limit: o.limit }, Boolean(o.all));
      ctx.out.table((page.items as unknown as AuditEvent[]).map(row), COLUMNS, page);
    });
  c.command('tail')
    .option('--tenant <tenantId>')
    .option('--type <eventType>')
    .option('--limit <n>', 'how many of the newest events', int('--limit'), 20)
    .option('--follow', 'keep printing new events as they are recorded')
    .option('--interval <ms>', 'poll interval with --follow', int('--interval'), 1000)
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const filters = { tenantId: o.tenant, type: o.type };
      const newest = await ctx.api.get<{ items: AuditEvent[] }>('/v1/audit/events', { ...filters, order: 'desc', limit: o.limit });
      const items = newest.items.reverse();
      print(ctx, items);
      if (!o.follow) return;
      let after = items.length ? items[items.length - 1].position : '0';
      for (;;) {
        await sleep(o.interval);
        const page = await ctx.api.get<{ items: AuditEvent[] }>('/v1/audit/events', { ...filters, afterPosition: after, limit: 500 });
        if (page.items.length) {
          print(ctx, page.items);
          after = page.items[page.items.length - 1].position;
        }
      }
    });
  c.command('replay')
    .requiredOption('--tenant <tenantId>')
    .requiredOption('--as-of <time>', 'ISO time', isoTime('--as-of'))
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const state = await ctx.api.get(`/v1/tenants/${encodeURIComponent(o.tenant)}/state`, { asOf: o.asOf });
      if (ctx.out.json) return ctx.out.raw(state);
      ctx.out.line(`tenant ${o.tenant} as of ${state.asOf}, replayed through position ${state.position}: ${state.tenant?.status ?? 'did not exist'}`);
      ctx.out.table(state.keyLinks, ['keyLinkId', 'status', 'providerKind', 'mode', 'algorithm', 'keySize']);
      ctx.out.table(state.systems, ['systemId', 'name', 'region', 'keyLinkId', 'status']);
      ctx.out.table(state.policies, ['policyId', 'scope', 'version']);
      ctx.out.line(`could decrypt at that time: ${state.couldDecrypt.map((s: { name: string; region: string }) => `${s.name} (${s.region})`).join(', ') || 'nobody'}`);
    });
  return c;
}

function print(ctx: Ctx, items: AuditEvent[]) {
  if (ctx.out.json) {
    for (const e of items) ctx.io.stdout.write(`${JSON.stringify(e)}\n`);
    return;
  }
  for (const e of items) ctx.out.line(`${e.position.padStart(8)}  ${e.recordedAt}  ${e.type.padEnd(20)}  ${e.streamName}  ${e.metadata?.actor?.subject ?? ''}`);
}
