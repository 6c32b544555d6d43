import type { Command } from 'commander';
import { checkpointPayload, ed25519PublicKeyFromRaw, leafHash, ed25519Verify, SignedCheckpoint, verifyConsistency, verifyInclusion } from '@cmk/audit';
import type { CliIo } from '../http-client';
import { CliError, ExitCode } from '../errors';
import { contextOf, Ctx, int } from './context';

interface KeyDocument {
  keyId: string;
  alg: string;
  publicKey: string;
  spkiPem: string;
}

async function trustedKeys(ctx: Ctx): Promise<Map<string, KeyDocument>> {
  const { keys } = await ctx.api.get<{ keys: KeyDocument[] }>('/.well-known/cmk-audit-keys');
  return new Map(keys.map((k) => [k.keyId, k]));
}

function signatureOk(keys: Map<string, KeyDocument>, c: SignedCheckpoint): boolean {
  const key = keys.get(c.keyId);
  return key !== undefined && ed25519Verify(ed25519PublicKeyFromRaw(Buffer.from(key.publicKey, 'base64url')), checkpointPayload(c), c.signature);
}

const bytes = (hex: string[]) => hex.map((h) => Buffer.from(h, 'hex'));

/**
 * `cmk audit key | checkpoints | prove`: what an auditor checks on their own machine. Signatures and proofs are
 * verified here, in the CLI, against the published key; the service's word is never taken for it.
 */
export function addAuditProofCommands(c: Command, io: CliIo): void {
  c.command('key')
    .description('the public key that signs audit checkpoints (Ed25519)')
    .action(async (_o, cmd) => {
      const ctx = contextOf(cmd, io);
      const keys = [...(await trustedKeys(ctx)).values()];
      if (ctx.out.json) return ctx.out.record({ keys });
      for (const k of keys) ctx.out.line(`${k.keyId} (${k.alg})\n${k.spkiPem.trim()}`);
    });
  c.command('checkpoints')
    .description('signed checkpoints of the audit log, each signature verified here')
    .action(async (_o, cmd) => {
      const ctx = contextOf(cmd, io);
      const keys = await trustedKeys(ctx);
      const { items } = await ctx.api.get<{ items: (SignedCheckpoint & { lastPosition: string })[] }>('/v1/audit/checkpoints');
      const rows = items.map((c) => ({ treeSize: c.treeSize, rootHash: c.rootHash, time: c.time, keyId: c.keyId, lastPosition: c.lastPosition, signature: signatureOk(keys, c) ? 'valid' : 'INVALID' }));
      ctx.out.table(rows, ['treeSize', 'time', 'rootHash', 'lastPosition', 'signature'], { items: rows });
      if (rows.some((r) => r.signature !== 'valid')) throw new CliError('a checkpoint signature does not verify against the published key', ExitCode.verification);
    });
  c.command('prove')
    .description('prove that the event at a position is in the signed log (and that the log only grew since an earlier checkpoint)')
    .requiredOption('--position <n>', 'global position of the event')
    .option('--since <treeSize>', 'also prove the latest checkpoint extends this earlier one', int('--since'))
    .action(async (o, cmd) => {
      const ctx = contextOf(cmd, io);
      const keys = await trustedKeys(ctx);
      const inclusion = await ctx.api.get<{ leafIndex: number; leaf: string; proof: string[]; checkpoint: SignedCheckpoint }>('/v1/audit/proofs/inclusion', { position: o.position });
      const checkpoint = inclusion.checkpoint;
      const signed = signatureOk(keys, checkpoint);
      const included = verifyInclusion(leafHash(Buffer.from(inclusion.leaf, 'hex')), inclusion.leafIndex, checkpoint.treeSize, bytes(inclusion.proof), Buffer.from(checkpoint.rootHash, 'hex'));
      const result: Record<string, unknown> = { position: o.position, leafIndex: inclusion.leafIndex, treeSize: checkpoint.treeSize, signature: signed ? 'valid' : 'INVALID', inclusion: included ? 'valid' : 'INVALID' };
      let consistent = true;
      if (o.since !== undefined) {
        const c = await ctx.api.get<{ from: SignedCheckpoint; to: SignedCheckpoint; proof: string[] }>('/v1/audit/proofs/consistency', { from: o.since, to: checkpoint.treeSize });
        consistent = signatureOk(keys, c.from) && verifyConsistency(c.from.treeSize, c.to.treeSize, Buffer.from(c.from.rootHash, 'hex'), Buffer.from(c.to.rootHash, 'hex'), bytes(c.proof));
        result.consistency = consistent ? 'valid' : 'INVALID';
      }
      if (ctx.out.json) ctx.out.record(result);
      else ctx.out.line(Object.entries(result).map(([k, v]) => `${k}: ${v}`).join('\n'));
      if (!signed || !included || !consistent) throw new CliError('the audit proof does not verify', ExitCode.verification);
    });
}
