import type { Command } from 'commander';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { contextOf, isoTime } from './context';
import { verifyBundleDir } from './audit-verify-bundle';

interface EvidenceResponse {
  tenantId: string;
  events: number;
  anchorTreeSize: number;
  checkpoints: number;
  files: Record<string, string>;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `cmk audit evidence`: fetches a tenant's evidence bundle, writes it as a directory, then verifies what it wrote
 * (the progress bar follows that check), so an auditor holds a bundle known to verify before handing it on.
 */
export function addAuditEvidenceCommand(c: Command, io: CliIo): void {
  c.command('evidence')
    .description("export a tenant's audit evidence bundle (events, proofs, signed checkpoints, key, HTML report) into a directory")
    .requiredOption('--tenant <tenantId>')
    .requiredOption('--from <time>', 'window start, ISO time', isoTime('--from'))
    .requiredOption('--to <time>', 'window end, ISO time', isoTime('--to'))
    .option('--as-of <time>', 'also show the state (and who could decrypt) at this time', isoTime('--as-of'))
    .requiredOption('--out <dir>', 'directory to write the bundle into (created; must be empty)')
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new UsageError(`--out ${o.out} is not empty; give a new directory`);
      const res = await ctx.api.get<EvidenceResponse>('/v1/audit/evidence', { tenantId: o.tenant, from: o.from, to: o.to, asOf: o.asOf });
      mkdirSync(o.out, { recursive: true, mode: 0o750 });
      for (const [name, content] of Object.entries(res.files)) {
        // Names come from the service; one that could leave the directory is refused rather than written.
        if (!SAFE_NAME.test(name)) throw new UsageError(`the service sent a bundle file named ${JSON.stringify(name)}; refusing to write it`);
        const path = join(o.out, name);
        writeFileSync(path, content, { encoding: 'utf8', flag: 'wx' });
        chmodSync(path, 0o640);
      }
      if (!ctx.out.json) ctx.out.line(`wrote ${Object.keys(res.files).length} files to ${o.out}: ${res.events} events of tenant ${res.tenantId}, proven against checkpoint ${res.anchorTreeSize}`);
      const report = verifyBundleDir(o.out, undefined, io, ctx.out.json);
      if (!ctx.out.json) ctx.out.line(`open ${join(o.out, 'report.html')} to read (or print) the report; check the key with \`cmk audit verify --bundle ${o.out} --public-key <key>\``);
      return void report;
    });
}
