import { SingleBar } from 'cli-progress';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BundleReport, verifyBundle } from '@cmk/audit';
import type { CliIo } from '../http-client';
import { CliError, ExitCode, UsageError } from '../errors';
import { parsePublicKeys } from './audit-verify-store';

export interface VerifyBundleCliOptions {
  bundle?: string;
  publicKey?: string[];
}

/** The regular files of a bundle directory; anything else in it (a subdirectory, a link) is refused, not followed. */
export function readBundleDir(dir: string): Map<string, Buffer> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--bundle ${dir} is not a directory`);
    names = readdirSync(dir);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new UsageError(`--bundle ${dir} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const files = new Map<string, Buffer>();
  for (const name of names) {
    const path = join(dir, name);
    if (!lstatSync(path).isFile()) throw new CliError(`error: ${path} is not a regular file; a bundle holds only files`, ExitCode.verification);
    files.set(name, readFileSync(path));
  }
  return files;
}

/** Verifies with a progress bar on a terminal; prints the verdict; a bundle that does not verify exits 8. */
export function verifyBundleDir(dir: string, publicKey: string[] | undefined, io: CliIo, json: boolean): BundleReport {
  const publicKeys = (publicKey ?? []).flatMap(parsePublicKeys);
  const files = readBundleDir(dir);
  const stderr = io.stderr as { write(s: string): unknown; isTTY?: boolean };
  const bar = !json && stderr.isTTY ? new SingleBar({ format: 'verify bundle [{bar}] {percentage}% {value}/{total} events', stream: stderr as NodeJS.WritableStream }) : undefined;
  let started = false;
  const report = verifyBundle(files, {
    publicKeys,
    onProgress: (done, total) => {
      if (!bar) return;
      if (!started) bar.start(Math.max(total, 1), 0);
      started = true;
      bar.update(done);
    },
  });
  bar?.stop();
  print(report, dir, io, json);
  if (!report.ok) {
    const f = report.first!;
    throw new CliError(`error: the bundle does not verify: ${f.item}: ${f.kind}`, ExitCode.verification);
  }
  return report;
}

export async function runVerifyBundle(o: VerifyBundleCliOptions, io: CliIo, json: boolean): Promise<void> {
  if (!o.bundle) throw new UsageError('--bundle needs the directory `cmk audit evidence --out` wrote');
  verifyBundleDir(o.bundle, o.publicKey, io, json);
}

function print(report: BundleReport, dir: string, io: CliIo, json: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ bundle: dir, ...report }, null, 2)}\n`);
    return;
  }
  const out = (s: string): void => void io.stdout.write(`${s}\n`);
  const c = report.counts;
  out(`bundle ${dir}: tenant ${report.tenantId ?? '?'}, ${report.window ? `${report.window.from} to ${report.window.to}` : 'window unknown'}`);
  const trusted = report.trustedKeys.map((k) => k.keyId).join(', ') || 'none';
  out(
    report.trustedKeys[0]?.source === 'operator'
      ? `trusted key: ${trusted} (given with --public-key)`
      : `trusted key: ${trusted} (taken from the bundle's manifest: compare it with \`cmk audit key\`, or pass --public-key)`,
  );
  out(`events ${c.eventsVerified}/${c.events} verified, inclusion proofs ${c.proofsVerified}/${c.events}, checkpoints ${c.checkpointsVerified}/${c.checkpoints}, consistency proofs ${c.consistencyVerified}, files ${c.files}`);
  if (report.ok) {
    out('OK: every event, proof, signature and file hash verifies');
    return;
  }
  out(`FAILED at ${report.first!.item} (${report.first!.kind}): ${report.first!.problem}`);
  const rest = report.problems.slice(1, 11);
  if (rest.length) out(`then:\n${rest.map((p) => `  ${p.item} (${p.kind}): ${p.problem}`).join('\n')}${report.problems.length > 11 ? `\n  … and ${report.problems.length - 11} more` : ''}`);
}
