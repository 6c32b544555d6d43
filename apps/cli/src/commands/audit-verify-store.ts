import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { ed25519KeyId } from '@cmk/audit/ed25519';
import type { StoreVerifyReport } from '@cmk/audit/store-reader';
import type { CliIo } from '../http-client';
import { CliError, ExitCode, UsageError } from '../errors';
import { parsePublicKeys } from './audit-public-keys';
// audit-verify-bundle.ts reads --public-key the same way, from here.
export { parsePublicKeys } from './audit-public-keys';
import { openDatabaseUrl, openDataDir } from './audit-store-source';
import { collect, int } from './context';

/**
 * `cmk audit verify --database-url … | --data-dir …`: verifies a live store with no access to the service. Reads
 * the events table of the PostgreSQL adapter's schema (on PostgreSQL or the embedded PGlite directory) in one
 * read-only snapshot, and checks every hash chain and every checkpoint the sealer recorded.
 *
 * Signatures are checked against keys the operator brings (--public-key): a key found beside the store proves
 * nothing to someone who may have rewritten the store and its key together. Without one the walk still runs, but
 * the verdict is "not proven" (exit 8) unless --trust-store-key says the operator accepts that.
 */
export interface VerifyStoreCliOptions {
  databaseUrl?: string;
  dataDir?: string;
  schema?: string;
  publicKey?: string[];
  trustStoreKey?: boolean;
  pageSize?: number;
  minTreeSize?: number;
  /** Declared by the evidence-bundle form of `verify`; the two sources never mix. */
  bundle?: string;
}

const DEFAULT_SCHEMA = 'cmk_events';

export function withVerifyStoreOptions(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'verify the PostgreSQL event store at this URL (read-only; no service needed)')
    .option('--data-dir <dir>', 'verify the embedded store in this CMK_DATA_DIR (the service must be stopped)')
    .option('--schema <name>', `event store schema (env CMK_EVENT_STORE_SCHEMA, default ${DEFAULT_SCHEMA})`)
    .option('--public-key <hex|file>', 'trusted checkpoint key: 64 hex digits, or a file with what `cmk audit key` prints (repeatable)', collect)
    .option('--trust-store-key', 'without --public-key: accept signatures checked against the key in the data directory (or none)')
    .option('--min-tree-size <n>', 'fail unless a verified checkpoint covers at least this many events (the last one you verified)', int('--min-tree-size'))
    .option('--page-size <n>', 'events per read', int('--page-size'), 5_000);
}

export function isStoreVerification(o: VerifyStoreCliOptions): boolean {
  return o.databaseUrl !== undefined || o.dataDir !== undefined;
}

export async function runVerifyStore(o: VerifyStoreCliOptions, io: CliIo, json: boolean): Promise<void> {
  if (o.bundle !== undefined && isStoreVerification(o)) throw new UsageError('--bundle verifies an exported bundle; it cannot be combined with --database-url or --data-dir');
  if (o.databaseUrl !== undefined && o.dataDir !== undefined) throw new UsageError('give either --database-url or --data-dir, not both');
  if (!isStoreVerification(o)) throw new UsageError('say what to verify: --database-url <url>, --data-dir <dir> (or --bundle <file>)');
  if (o.pageSize !== undefined && o.pageSize <= 0) throw new UsageError('--page-size must be a positive integer');
  const schema = o.schema ?? io.env.CMK_EVENT_STORE_SCHEMA ?? DEFAULT_SCHEMA;
  const operatorKeys = (o.publicKey ?? []).flatMap(parsePublicKeys);

  // Loaded here, not at start-up: every other `cmk` command would pay for the database drivers.
  const { PostgresStoreSnapshot, StoreReadError, verifyStore } = await import('@cmk/audit/store-reader');
  const store = o.dataDir !== undefined ? await openDataDir(o.dataDir) : await openDatabaseUrl(o.databaseUrl!);
  let report: StoreVerifyReport;
  let seconds: number;
  const trust = operatorKeys.length > 0 ? { source: 'operator-key' as const, keys: operatorKeys } : store.storeKey ? { source: 'store-key' as const, keys: [store.storeKey] } : { source: 'unchecked' as const, keys: [] };
  try {
    const snapshot = await PostgresStoreSnapshot.open(store.pool, schema).catch((e) => {
      throw e instanceof StoreReadError ? new CliError(`error: ${e.message}`, ExitCode.notFound) : e;
    });
    try {
      const stderr = io.stderr as { write(s: string): unknown; isTTY?: boolean };
      const bar = !json && stderr.isTTY ? new SingleBar({ format: 'verify [{bar}] {percentage}% {value}/{total} events', stream: stderr as NodeJS.WritableStream }) : undefined;
      // Counting scans the table, so only when someone watches the bar.
      const total = bar ? await snapshot.count() : 0;
      bar?.start(Math.max(total, 1), 0);
      const started = process.hrtime.bigint();
      try {
        report = await verifyStore(snapshot, { pageSize: o.pageSize, publicKeys: trust.source === 'unchecked' ? undefined : trust.keys, onProgress: (n) => bar?.update(Math.min(n, total)) });
      } finally {
        bar?.stop();
      }
      seconds = Number(process.hrtime.bigint() - started) / 1e9;
    } finally {
      await snapshot.close();
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`error: reading ${store.describe} failed: ${(error as Error).message}`, ExitCode.unavailable);
  } finally {
    await store.close();
  }

  const keyIds = trust.keys.map(ed25519KeyId);
  const covered = report.lastVerifiedCheckpoint?.treeSize ?? 0;
  if (report.ok && o.minTreeSize !== undefined && covered < o.minTreeSize) {
    // The tree only grows: fewer signed events than an auditor already saw means checkpoints (and events) were removed.
    const finding = { kind: 'checkpoint-missing' as const, problem: `the last verified checkpoint covers ${covered} events, fewer than the ${o.minTreeSize} given by --min-tree-size: checkpoints were removed from the end of the log` };
    report = { ...report, ok: false, finding, findings: [finding] };
  }
  const proven = report.ok && (trust.source === 'operator-key' || o.trustStoreKey === true);
  const result = {
    ok: report.ok,
    proven,
    source: store.describe,
    schema,
    signatures: { checkedAgainst: trust.source, keyIds },
    events: report.eventsRead,
    leaves: report.leaves,
    streams: report.streams,
    checkpoints: report.checkpoints,
    lastVerifiedCheckpoint: report.lastVerifiedCheckpoint ?? null,
    eventsAfterLastCheckpointChainProvenOnly: report.leavesAfterLastCheckpoint,
    finding: report.finding ?? null,
    findings: report.findings,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(report.eventsRead / Math.max(seconds, 1e-9)),
  };
  if (json) io.stdout.write(`${JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  else printHuman(io, result, report);

  if (!report.ok) {
    const f = report.finding!;
    const where = f.firstBadPosition !== undefined ? ` at position ${f.firstBadPosition}` : '';
    throw new CliError(`error: the audit log does not verify (${f.kind}${where})`, ExitCode.verification);
  }
  if (!proven) {
    throw new CliError(
      trust.source === 'store-key'
        ? 'error: checkpoint signatures were checked ONLY against the key stored in the data directory, which proves nothing against whoever could rewrite the store; pass --public-key (from `cmk audit key`), or --trust-store-key to accept this'
        : 'error: checkpoint signatures were NOT checked (no key is recorded in a PostgreSQL store); pass --public-key (from `cmk audit key`), or --trust-store-key to accept chains and roots alone',
      ExitCode.verification,
    );
  }
}

function printHuman(io: CliIo, r: { source: string; signatures: { checkedAgainst: string; keyIds: string[] }; seconds: number; eventsPerSecond: number }, report: StoreVerifyReport): void {
  const line = (s: string) => io.stdout.write(`${s}\n`);
  line(`${report.ok ? 'OK' : 'FAILED'}: ${r.source}`);
  line(`events: ${report.eventsRead} (${report.leaves} audit leaves, ${report.streams} streams) in ${r.seconds.toFixed(2)} s, ${r.eventsPerSecond} events/s`);
  const against = r.signatures.checkedAgainst === 'operator-key' ? `the given key ${r.signatures.keyIds.join(', ')}` : r.signatures.checkedAgainst === 'store-key' ? `THE KEY STORED IN THE DATA DIRECTORY (${r.signatures.keyIds.join(', ')}), not a key you brought` : 'NOTHING: signatures not checked';
  line(`checkpoints: ${report.checkpoints.verified} of ${report.checkpoints.recorded} verified; signatures checked against ${against}`);
  const last = report.lastVerifiedCheckpoint;
  line(last ? `last checkpoint: ${last.treeSize} events up to position ${last.lastPosition ?? '?'}, signed ${last.time} by ${last.keyId}` : 'last checkpoint: none verified');
  line(`after the last checkpoint: ${report.leavesAfterLastCheckpoint} events proven by their hash chains only`);
  for (const f of report.findings) {
    const at = f.firstBadPosition !== undefined ? `position ${f.firstBadPosition}${f.streamName ? ` (${f.streamName}@${f.revision})` : ''}` : f.checkpoint ? `checkpoint of treeSize ${f.checkpoint.treeSize}` : 'the log';
    line(`${f === report.finding ? 'FIRST BAD' : 'also'}: ${at}: ${f.kind}: ${f.problem}`);
  }
}
