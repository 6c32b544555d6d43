/**
 * `cmk audit verify --database-url` end to end over a real PostgreSQL store: the CLI's own function (runCli, as
 * the `cmk` binary runs it) reading the PostgreSQL adapter's schema in one read-only snapshot and checking every
 * chain and checkpoint. Beside it, in the same run, the same verifier over the same events already in memory, so
 * the cost of reading (query, wire, JSONB to JS objects) shows on its own.
 *
 * The store is written with the adapter's append (many events per append, many appends in flight, which the
 * adapter batches into one statement), so every event is chained by the real append function, and sealed as the
 * sealer seals: a signed checkpoint every CMK_BENCH_SEAL_EVERY leaves, the last few thousand left chain-only.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { auditLeaf, isLeafEvent, leafHash, memoryCheckpointSigner, MerkleAccumulator, rawEd25519PublicKey, signCheckpointWith } from '@cmk/audit';
import { PostgresStoreSnapshot, StoreLogVerifier } from '@cmk/audit/store-reader';
import { ChainRecord } from '@cmk/audit/chain-verifier';
import { AUDIT_CHECKPOINT_STREAM } from '@cmk/domain';
import { migrateEventStore, PostgresEventStore } from '@cmk/event-store';
import { runCli } from '../apps/cli/src/program';
import { benchDatabaseUrl, fmt, report, runConcurrently } from './bench-util';

const TOTAL = Number(process.env.CMK_BENCH_EVENTS ?? 200_000);
const PER_APPEND = 50;
const STREAMS = 4_000;
const SEAL_EVERY = Number(process.env.CMK_BENCH_SEAL_EVERY ?? 45_000);
/** Appends per round: distinct streams, so no two appends of one stream race. */
const CHUNK = 200;
const ROUNDS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const url = benchDatabaseUrl();
  const pool = new Pool({ connectionString: url, max: 8 });
  const schema = `bench_verify_${randomUUID().slice(0, 8)}`;
  await migrateEventStore(pool, { schema, appRole: `${schema}_app` });
  const store = new PostgresEventStore(pool, { schema, appRole: `${schema}_app` });
  const signer = memoryCheckpointSigner();
  const tree = new MerkleAccumulator();
  const streams = Array.from({ length: STREAMS }, (_, i) => `${['tenant', 'keylink', 'system'][i % 3]}-${randomUUID()}`);
  const revisions = new Array<number>(STREAMS).fill(-1);
  let leaves = 0;
  let sealedAt = 0;
  let lastPosition = 0n;

  async function sealUpTo(size: number) {
    // Leaves are read back in global order (checkpoint events skipped), exactly what the sealer's projection records.
    while (tree.size < size) {
      const page = await store.readAll({ after: lastPosition, maxCount: size - tree.size });
      for (const e of page) {
        lastPosition = e.position;
        if (!isLeafEvent(e.streamName)) continue;
        tree.appendLeafHash(leafHash(auditLeaf(e)));
        if (tree.size === size) break;
      }
    }
    const checkpoint = await signCheckpointWith(signer, { treeSize: tree.size, rootHash: tree.root().toString('hex'), time: new Date().toISOString() });
    const id = randomUUID();
    const last = (await store.readStream(AUDIT_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }))[0];
    await store.append(AUDIT_CHECKPOINT_STREAM, [{ type: 'AuditCheckpointSigned', data: { ...checkpoint, lastPosition: lastPosition.toString() }, metadata: { commandId: id } }], {
      expectedRevision: last ? last.revision : 'no_stream',
      commandId: id,
    });
  }

  const loadStarted = process.hrtime.bigint();
  const appends = TOTAL / PER_APPEND;
  for (let chunk = 0; chunk < appends; chunk += CHUNK) {
    const batch = Math.min(CHUNK, appends - chunk);
    await runConcurrently(16, batch, async (k) => {
      const s = (chunk + k) % STREAMS;
      const tenantId = randomUUID();
      const events = Array.from({ length: PER_APPEND }, (_, j) => ({
        type: 'KeyLinkRotated',
        data: { keyLinkId: randomUUID(), tenantId, keyReference: 'pkcs11:token=t;object=k', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1', n: j },
        metadata: { actor: { subject: 'bench', roles: ['platform-operator'] }, commandId: randomUUID(), correlationId: randomUUID(), occurredAt: new Date().toISOString(), schemaVersion: 1 },
      }));
      const expected = revisions[s] < 0 ? 'no_stream' : revisions[s];
      await store.append(streams[s], events, { expectedRevision: expected });
      revisions[s] += PER_APPEND;
    });
    leaves += batch * PER_APPEND;
    while (sealedAt + SEAL_EVERY <= leaves && sealedAt + SEAL_EVERY < TOTAL) {
      sealedAt += SEAL_EVERY;
      await sealUpTo(sealedAt);
    }
  }
  const loadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9;

  const key = rawEd25519PublicKey(signer.publicKey).toString('hex');
  const cli: number[] = [];
  const memory: number[] = [];
  let summary: Record<string, unknown> = {};
  for (let round = 0; round < ROUNDS; round++) {
    let stdout = '';
    const started = process.hrtime.bigint();
    const code = await runCli(['--json', 'audit', 'verify', '--database-url', url, '--schema', schema, '--public-key', key], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => process.stderr.write(s) },
      env: {},
      fetch: globalThis.fetch,
    });
    cli.push(Number(process.hrtime.bigint() - started) / 1e9);
    summary = JSON.parse(stdout);
    if (code !== 0 || summary.events !== TOTAL + sealedAt / SEAL_EVERY) throw new Error(`verification of an intact store failed (exit ${code}): ${stdout}`);

    // The same walk over the same events, read beforehand: the verifier's share of the end-to-end time.
    const snapshot = await PostgresStoreSnapshot.open(pool, schema);
    const events: ChainRecord[] = [];
    for await (const page of snapshot.pages()) for (const e of page) events.push(e);
    const checkpoints = await snapshot.checkpoints();
    await snapshot.close();
    const walkStarted = process.hrtime.bigint();
    const verifier = new StoreLogVerifier(checkpoints, { publicKeys: [signer.publicKey] });
    for (const e of events) verifier.push(e);
    const inMemory = verifier.finish();
    memory.push(Number(process.hrtime.bigint() - walkStarted) / 1e9);
    if (!inMemory.ok) throw new Error('in-memory walk failed on an intact store');
  }
  const events = summary.events as number;
  report(`Audit verify over a live PostgreSQL store (${fmt(events)} events in ${fmt(STREAMS + 1)} streams, ${fmt(sealedAt / SEAL_EVERY)} checkpoints; median of ${ROUNDS} rounds)`, [
    ['load: adapter append, 50 events per append, 16 in flight, s', fmt(loadSeconds, 1)],
    ['load rate, events/s', fmt(TOTAL / loadSeconds)],
    ['`cmk audit verify --database-url … --public-key …` end to end (runCli), events/s', fmt(events / median(cli))],
    ['the same verifier over the same events already in memory (StoreLogVerifier, chains + Merkle + signatures), events/s', fmt(events / median(memory))],
    ['leaves after the last checkpoint (chain-proven only)', fmt(summary.eventsAfterLastCheckpointChainProvenOnly as number)],
  ]);
  await store.close();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.query(`DROP ROLE IF EXISTS "${schema}_app"`);
  await pool.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
