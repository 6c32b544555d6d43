import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { JSON_SCHEMA, load } from 'js-yaml';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { contextOf, isoTime, int, listAll } from './context';

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read policy file ${file}`);
  }
  // JSON or YAML (JSON is YAML): the same document either way.
  if (/\.ya?ml$/i.test(file)) {
    try {
      return load(text, { schema: JSON_SCHEMA, json: true });
    } catch (e) {
      throw new UsageError(`policy file ${file} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`policy file ${file} is not valid JSON`);
  }
}

export function policiesCommand(io: CliIo): Command {
  const c = new Command('policies').description('versioned policies and their assignments');
  c.command('list')
    .option('--all')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/policies', {}, Boolean(o.all));
      ctx.out.table(page.items, ['policyId', 'name', 'latestVersion', 'updatedAt'], page);
    });
  c.command('get <policyId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    const p = await ctx.api.get(`/v1/policies/${encodeURIComponent(id)}`);
    if (ctx.out.json) return ctx.out.raw(p);
    ctx.out.record({ policyId: p.policyId, name: p.name, latestVersion: p.latestVersion });
    ctx.out.table(p.versions, ['version', 'definedAt', 'definedBy', 'document']);
    ctx.out.table(p.assignments, ['scope', 'version', 'assignedAt']);
  });
  c.command('define')
    .requiredOption('--name <name>')
    .requiredOption('--file <policy.json>')
    .option('--description <text>')
    .option('--id <uuid>')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', '/v1/policies', { policyId: o.id, name: o.name, description: o.description, document: readDocument(o.file) }), 'policy');
    });
  c.command('revise <policyId>')
    .requiredOption('--file <policy.json|yaml>')
    .option('--based-on <version>', 'refuse if the policy moved past this version', int('--based-on'))
    .option('--accept-impact', 'accept that existing key links become non-compliant (recorded)')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { document: readDocument(o.file), basedOnVersion: o.basedOn, acceptImpact: o.acceptImpact ? true : undefined };
      ctx.out.done(await ctx.api.send('POST', `/v1/policies/${encodeURIComponent(id)}/versions`, body), 'policy');
    });
  c.command('assign <policyId>')
    .requiredOption('--scope <scope>', '"global" or a tenant id')
    .option('--version <n>', 'pin a version (default: follow the latest)', int('--version'))
    .option('--accept-impact', 'accept that existing key links become non-compliant (recorded)')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { scope: o.scope, version: o.version, acceptImpact: o.acceptImpact ? true : undefined };
      ctx.out.done(await ctx.api.send('POST', `/v1/policies/${encodeURIComponent(id)}/assignments`, body), 'policy scope');
    });
  c.command('simulate')
    .description('what-if: which existing key links a draft policy would make non-compliant (nothing is written)')
    .requiredOption('--file <policy.json|yaml>')
    .option('--scope <scope>', '"global" (default), jurisdiction:<code> or a tenant id')
    .option('--as-of <time>', 'evaluate against the registry as it stood at this past time (replayed)', isoTime('--as-of'))
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const result = await ctx.api.send('POST', '/v1/policies/simulate', { document: readDocument(o.file), scope: o.scope, asOf: o.asOf });
      ctx.out.table(result.violations, ['keyLinkId', 'tenantId', 'rule', 'message'], result);
      if (!ctx.out.json) ctx.out.line(`${result.keyLinks} of ${result.evaluated} key links (${result.tenants} tenants) would be non-compliant${result.asOf ? ` as of ${result.asOf} (${result.replayedEvents} events replayed)` : ''}`);
    });
  c.command('unassign <policyId>')
    .requiredOption('--scope <scope>')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('DELETE', `/v1/policies/${encodeURIComponent(id)}/assignments/${encodeURIComponent(o.scope)}`), 'policy scope');
    });
  return c;
}

export function complianceCommand(io: CliIo): Command {
  return new Command('compliance')
    .description('key links violating the policies in force, keys due for rotation, and workers not on the policy versions in force')
    .option('--tenant <tenantId>')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const report = await ctx.api.get('/v1/compliance', { tenantId: o.tenant });
      ctx.out.table(report.violations, ['keyLinkId', 'tenantId', 'rule', 'message'], report);
      if (ctx.out.json) return;
      for (const r of [...report.rotation.overdue, ...report.rotation.warning]) ctx.out.line(`rotation ${r.state}: ${r.keyLinkId} (tenant ${r.tenantId}) is ${r.ageDays} days old, maximum ${r.maxAgeDays}`);
      const ref = (p: { policyId: string; version: number }) => `${p.policyId} v${p.version}`;
      for (const w of report.workerDrift.details as { workerId: string; region: string; liveness: string; inSync: boolean; missing: { policyId: string; version: number }[]; outdated: { policyId: string; version: number }[] }[]) {
        if (w.inSync) continue;
        const lacks = [...w.missing.map((p) => `missing ${ref(p)}`), ...w.outdated.map((p) => `still on ${ref(p)}`)].join(', ');
        ctx.out.line(`worker drift: ${w.workerId} (${w.region}) is ${w.liveness}${lacks ? `: ${lacks}` : ''}`);
      }
      ctx.out.line(
        `${report.violations.length} violations, ${report.rotation.overdue.length} overdue, ${report.rotation.warning.length} in the warning window (${report.keyLinksEvaluated} key links); ` +
          `${report.workerDrift.inSync} of ${report.workerDrift.workers} workers on the policy versions in force`,
      );
    });
}
