import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import type { CliIo } from '../http-client';
import { readImportParameters } from './byok.command';
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
    .option('--credential-ref <ref>', "where this link's provider credentials are: env:NAME, file:/path or secret:name (never the credential)")
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const body = { keyLinkId: o.id, providerKind: o.provider, mode: o.mode, keyReference: o.keyRef, algorithm: o.algorithm, keySize: o.size, providerRegion: o.region, credentialRef: o.credentialRef };
      ctx.out.done(await ctx.api.send('POST', `/v1/tenants/${encodeURIComponent(o.tenant)}/key-links`, body), 'key link');
    });
  c.command('activate <keyLinkId>')
    .description('prove possession of the key through its provider, then activate the link')
    .action(async (id, _o, cmd) => {
      const ctx = contextOf(cmd, io);
      ctx.out.done(await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/activate`, {}), 'key link');
    });
  const provider = [
    ['verify', 'prove possession of the key again, now'],
    ['sync', 'health sync now: what the provider says about the key, recorded when it changed'],
    ['rotate', 'rotate the key at its provider (a new version; earlier versions still unwrap)'],
  ] as const;
  for (const [verb, description] of provider) {
    c.command(`${verb} <keyLinkId>`)
      .description(description)
      .action(async (id, _o, cmd) => {
        const ctx = contextOf(cmd, io);
        const result = await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/${verb}`);
        if (verb === 'sync' && !ctx.out.json && result.observation) ctx.out.line(`provider says: ${result.observation.condition}${result.observation.providerCode ? ` (${result.observation.providerCode})` : ''}`);
        ctx.out.done(result, 'key link');
      });
  }
  c.command('import-params <keyLinkId>')
    .description('BYOK: get a wrapping public key for this link from its provider, saved to a file for `cmk byok wrap`')
    .option('--wrapping-algorithm <alg>', 'RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256')
    .option('--wrapping-key-spec <spec>', 'RSA_3072 or RSA_4096', 'RSA_4096')
    .requiredOption('--out <file>', 'where to write the import parameters (JSON)')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const params = await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/import-parameters`, { wrappingAlgorithm: o.wrappingAlgorithm, wrappingKeySpec: o.wrappingKeySpec });
      writeFileSync(o.out, JSON.stringify(params, null, 2) + '\n');
      if (ctx.out.json) return ctx.out.record(params);
      ctx.out.line(`import parameters written to ${o.out}: ${params.wrappingAlgorithm} under an ${params.wrappingKeySpec} key, fingerprint ${params.publicKeyFingerprint}, expire ${params.expiresAt}`);
    });
  c.command('import <keyLinkId>')
    .description('BYOK: send key material wrapped by `cmk byok wrap` to the provider (CMK never sees it unwrapped)')
    .requiredOption('--params <file>', 'the import parameters the material was wrapped under')
    .requiredOption('--wrapped <file>', 'the wrapped key material (binary, as `cmk byok wrap` writes it)')
    .action(async (id, o, cmd) => {
      const ctx = contextOf(cmd, io);
      const params = readImportParameters(o.params);
      const wrapped = readFileSync(o.wrapped);
      const body = { importToken: params.importToken, wrappingAlgorithm: params.wrappingAlgorithm, wrappedKeyMaterial: wrapped.toString('base64') };
      ctx.out.done(await ctx.api.send('POST', `/v1/key-links/${encodeURIComponent(id)}/import`, body), 'key link');
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
