import type { Command } from 'commander';
import type { CliIo } from '../http-client';
import { contextOf, isoTime } from './context';

interface SystemAccess {
  systemId: string;
  keyLinkId: string;
  keyLink: { keyReference: string; providerKind: string; mode: string; status: string; l1KeyVersion: string | null } | null;
  regions: string[];
  reason: string | null;
}

interface DecryptAccess {
  at: string;
  position: string | null;
  status: string;
  couldDecrypt: boolean;
  reasons: string[];
  geofence: { allowedRegions: string[] | null; servedRegions: string[]; setBy: { policyId: string; version: number; rule: string }[] };
  systems: SystemAccess[];
  pendingRevocations: { revocationPosition: string; cause: string; keyLinkId?: string; regions: { region: string; enforcedAt: string | null }[] }[];
}

const path = (tenantId: string, what: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/${what}`;

/** `cmk tenants as-of <tenantId> --at <time>`: the tenant as the regional workers were told at that time. */
export function addTenantAsOfCommand(c: Command, io: CliIo): void {
  c.command('as-of <tenantId>')
    .description('the tenant, its systems, key links and policies in force at a past time (rebuilt by replay)')
    .requiredOption('--at <time>', 'ISO time', isoTime('--at'))
    .action(async (tenantId: string, o: { at: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const state = await ctx.api.get(path(tenantId, 'as-of'), { at: o.at });
      if (ctx.out.json) return ctx.out.raw(state);
      ctx.out.line(`tenant ${tenantId} as of ${state.at} (last event at or before: position ${state.position}; ${state.replayedEvents} events replayed)`);
      ctx.out.record(state.tenant);
      ctx.out.table(state.keyLinks, ['keyLinkId', 'status', 'providerKind', 'mode', 'keyReference', 'l1KeyVersion', 'tenantKeyVersion']);
      ctx.out.table(state.systems, ['systemId', 'status', 'region', 'keyLinkId']);
      ctx.out.table(state.policies, ['policyId', 'version', 'scopes', 'document']);
    });
}

/** `cmk audit who-could-decrypt --tenant <id> --at <time>`: per system, through which key and in which regions. */
export function addWhoCouldDecryptCommand(c: Command, io: CliIo): void {
  c.command('who-could-decrypt')
    .description("who could decrypt a tenant's data at a past time: systems, key links, regions, or why nobody")
    .requiredOption('--tenant <tenantId>')
    .requiredOption('--at <time>', 'ISO time', isoTime('--at'))
    .action(async (o: { tenant: string; at: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.api.get<DecryptAccess>(path(o.tenant, 'decrypt-access'), { at: o.at });
      if (ctx.out.json) return ctx.out.raw(answer);
      const fence = answer.geofence.allowedRegions === null ? 'no geofence' : `geofence ${answer.geofence.allowedRegions.join(', ') || '(no region)'} set by ${answer.geofence.setBy.map((r) => `${r.policyId} v${r.version} ${r.rule}`).join('; ')}`;
      ctx.out.line(`tenant ${o.tenant} at ${answer.at} (position ${answer.position}): ${answer.status}, ${fence}`);
      ctx.out.line(answer.couldDecrypt ? 'could decrypt:' : `nobody could decrypt: ${answer.reasons.join(', ')}`);
      ctx.out.table(
        answer.systems.map((s) => ({
          systemId: s.systemId,
          keyLinkId: s.keyLinkId,
          key: s.keyLink ? `${s.keyLink.providerKind} ${s.keyLink.mode} ${s.keyLink.keyReference}${s.keyLink.l1KeyVersion ? ` (${s.keyLink.l1KeyVersion})` : ''}` : '',
          linkStatus: s.keyLink?.status ?? 'absent',
          regions: s.regions.join(', '),
          reason: s.reason ?? '',
        })),
        ['systemId', 'keyLinkId', 'key', 'linkStatus', 'regions', 'reason'],
      );
      for (const r of answer.pendingRevocations) {
        const regions = r.regions.map((p) => `${p.region} until ${p.enforcedAt ?? 'no receipt yet'}`).join(', ');
        ctx.out.line(`revocation at position ${r.revocationPosition} (${r.cause}${r.keyLinkId ? ` ${r.keyLinkId}` : ''}) not yet enforced: ${regions}`);
      }
    });
}
