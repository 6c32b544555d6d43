import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { contextOf, int, listAll } from './context';

export function keyLinksCommand(io: CliIo): Command {
  const c = new Command('links').description('key links to tenant roots of trust (BYOK/HYOK), and the kill switch');
  c.command('list')
    .option('--tenant <tenantId>')
    .option('--status <status>')
    .option('--provider <kind>')
    .option('--limit <n>')
    .option('--all')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const page = await listAll(ctx, '/v1/key-links', { tenantId: o.tenant, status: o.status, providerKind: o.provider, limit: o.limit }, Boolean(o.all));
      ctx.out.table(page.items, ['keyLinkId', 'tenantId', 'providerKind', 'mode', 'algorithm', 'keySize', 'providerRegion', 'status'], page);
    });
  c.command('get <keyLinkId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    ctx.out.record(await ctx.api.get(`/v1/key-links/${encodeURIComponent(id)}`));
  });
  c.command('link')
    .requiredOption('--tenant <tenantId>')
    .requiredOption('--provider <kind>', 'pkcs11, aws-kms, gcp-kms, azure-keyvault')
    .requiredOption('--mode <mode>', 'BYOK or HYOK')
    .requiredOption('--key-ref <reference>')
    .requiredOption('--algorithm <alg>', 'AES, RSA, EC')
    .requiredOption('--size <bits>', 'key size in bits', int('--size'))
    .requiredOption('--region <region>', "the provider's region")
    .option('--id <uuid>')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { keyLinkId: o.id, providerKind: o.provider, mode: o.mode, keyReference: o.keyRef, algorithm: o.algorithm, keySize: o.size, providerRegion: o.region };
      ctx.out.done(await ctx.api.send('POST', `/v1/tenants/${encodeURIComponent(o.tenant)}/key-links`, body), 'key link');
    });
  c.command('activate <keyLinkId>').action(async (id, _o, cmd) => {
    const ctx = contextOf(cmd, io);
    ctx.out.done(await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/activate`, {}), 'key link');
  });
  for (const verb of ['revoke', 'restore', 'unlink'] as const) {
    c.command(`${verb} <keyLinkId>`)
      .requiredOption('--reason <text>')
      .action(async (id, o, cmd) => {
        const ctx = contextOf(cmd, io);
        ctx.out.done(await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/${verb}`, { reason: o.reason }), 'key link');
      });
  }
  c.command('receipt <keyLinkId>')
    .description('revocation receipt: when the link was revoked and when each region enforced it')
    .action(async (id, _o, cmd) => {
      const ctx = contextOf(cmd, io);
      const receipt = await ctx.api.get(`/v1/key-links/${encodeURIComponent(id)}/revocation`);
      ctx.out.table(
        receipt.regions.map((r: { region: string; firstEnforcedAt: string | null; afterMs: number | null; workers: unknown[] }) => ({
          region: r.region,
          enforcedAt: r.firstEnforcedAt ?? 'pending',
          afterMs: r.afterMs ?? '',
          workers: r.workers.length,
        })),
        ['region', 'enforcedAt', 'afterMs', 'workers'],
        receipt,
      );
      const summary = receipt.confirmed
        ? `revoked ${receipt.revokedAt}; every region enforced within ${receipt.allEnforcedAfterMs} ms`
        : `revoked ${receipt.revokedAt}; ${receipt.dispatched ? `waiting for ${receipt.pendingRegions.join(', ')}` : 'not yet dispatched to the mesh'}`;
      if (!ctx.out.json) ctx.out.line(summary);
    });
  return c;
}
