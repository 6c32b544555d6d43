import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { contextOf, int, listAll } from './context';

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read policy file ${file}`);
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
    .requiredOption('--file <policy.json>')
    .option('--based-on <version>', 'refuse if the policy moved past this version', int('--based-on'))
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/policies/${encodeURIComponent(id)}/versions`, { document: readDocument(o.file), basedOnVersion: o.basedOn }), 'policy');
    });
  c.command('assign <policyId>')
    .requiredOption('--scope <scope>', '"global" or a tenant id')
    .option('--version <n>', 'pin a version (default: follow the latest)', int('--version'))
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/policies/${encodeURIComponent(id)}/assignments`, { scope: o.scope, version: o.version }), 'policy scope');
    });
  c.command('unassign <policyId>')
    .requiredOption('--scope <scope>')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('DELETE', `/v1/policies/${encodeURIComponent(id)}/assignments/${encodeURIComponent(o.scope)}`), 'policy scope');
    });
  return c;
}
