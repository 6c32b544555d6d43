import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { contextOf, int, listAll } from './context';

const COLUMNS = ['approvalId', 'status', 'action', 'tenantId', 'initiator', 'approvals', 'requiredApprovers', 'expiresAt'];

/** Flattens people to subjects for the table; --json prints the API's shape. */
const row = (a: Record<string, unknown>) => ({
  ...a,
  initiator: (a.initiator as { subject: string }).subject,
  approvals: (a.approvals as { subject: string }[]).map((p) => p.subject).join(', '),
});

export function approvalsCommand(io: CliIo): Command {
  const c = new Command('approvals').description('four-eyes approvals: requests waiting for you, approve, reject');
  c.command('list')
    .description('pending requests you may approve (or, with --status, every request in that status you may see)')
    .option('--status <status>', 'pending, approved, executed, failed, rejected or expired')
    .option('--tenant <tenantId>')
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--all', 'follow every page')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/approvals', { status: o.status, tenantId: o.tenant, limit: o.limit }, Boolean(o.all));
      if (ctx.out.json) return ctx.out.raw(page);
      ctx.out.table(page.items.map(row), COLUMNS, page);
    });
  c.command('get <approvalId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    const a = await ctx.api.get(`/v1/approvals/${encodeURIComponent(id)}`);
    if (ctx.out.json) return ctx.out.raw(a);
    ctx.out.record({ ...row(a), operation: a.operation, target: a.target, request: a.request, approverRoles: a.approverRoles, outcome: a.outcome, rejection: a.rejection });
  });
  c.command('approve <approvalId>')
    .description('approve; the last approval needed runs the command (as its initiator)')
    .action(async (id, _o, cmd) => {
      const ctx = contextOf(cmd, io);
      const a = await ctx.api.send('POST', `/v1/approvals/${encodeURIComponent(id)}/approve`);
      if (ctx.out.json) return ctx.out.raw(a);
      if (a.status === 'executed') ctx.out.line(`approval ${id}: executed (${a.result?.events?.join(', ') || 'no change'} at position ${a.outcome.position})`);
      else if (a.status === 'failed') ctx.out.line(`approval ${id}: failed, the command was refused: ${a.outcome.code} (${a.outcome.reason})`);
      else ctx.out.line(`approval ${id}: ${a.status}, ${a.approvals.length} of ${a.requiredApprovers} approvals`);
    });
  c.command('reject <approvalId>')
    .requiredOption('--reason <text>')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const a = await ctx.api.send('POST', `/v1/approvals/${encodeURIComponent(id)}/reject`, { reason: o.reason });
      if (ctx.out.json) return ctx.out.raw(a);
      ctx.out.line(`approval ${id}: ${a.status}`);
    });
  return c;
}
