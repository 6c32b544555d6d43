/**
 * `cmk audit verify --database-url | --data-dir` against real stores: the real PostgreSQL (CMK_TEST_DATABASE_URL,
 * own schema) and an embedded PGlite data directory, both written by the real adapter and sealed the way the
 * sealer seals (AuditSealer.seal: RFC 9162 root over the leaves' chain hashes, signed, appended with the expected
 * revision to auditcheckpoint-log). Tampering is done directly in SQL as the superuser with the append-only
 * trigger switched off, as in libs/event-store/src/postgres/tamper-detection.int-spec.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import {
  auditLeaf,
  CheckpointSigner,
  isLeafEvent,
  keyFileCheckpointSigner,
  leafHash,
  memoryCheckpointSigner,
  MerkleAccumulator,
  publicKeyDocument,
  rawEd25519PublicKey,
  signCheckpointWith,
} from '@cmk/audit';
import { AUDIT_CHECKPOINT_STREAM, eventMetadata } from '@cmk/domain';
import type { EventStore, RecordedEvent } from '@cmk/event-store';
import { openEmbeddedDatabase } from '@cmk/event-store/postgres/embedded-database';
import { migrateEventStore } from '@cmk/event-store/postgres/migrations';
import { PostgresEventStore } from '@cmk/event-store/postgres/postgres-event-store.adapter';
import { dropEventStore } from '@cmk/event-store/testing/postgres-contract-subject';
import { freshSchemaName, tamperAsSuperuser, testDatabaseUrl } from '@cmk/testing';
import { UsageError } from '../errors';
import { runCli } from '../program';
import { runVerifyStore } from './audit-verify-store';

const ROOT = join(__dirname, '../../../..');
const ACTOR = { subject: 'alice', roles: ['platform-operator'] };

async function cmk(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: {}, fetch: globalThis.fetch });
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

/** What AuditSealer.seal appends: a checkpoint over every leaf so far, with the position of the last one. */
async function seal(store: EventStore, signer: CheckpointSigner): Promise<void> {
  const all = await store.readAll();
  const leaves = all.filter((e) => isLeafEvent(e.streamName));
  const tree = new MerkleAccumulator();
  for (const e of leaves) tree.appendLeafHash(leafHash(auditLeaf(e)));
  const checkpoint = await signCheckpointWith(signer, { treeSize: leaves.length, rootHash: tree.root().toString('hex'), time: new Date().toISOString() });
  const last = (await store.readStream(AUDIT_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }))[0];
  const id = randomUUID();
  await store.append(
    AUDIT_CHECKPOINT_STREAM,
    [{ type: 'AuditCheckpointSigned', data: { ...checkpoint, lastPosition: leaves[leaves.length - 1].position.toString() }, metadata: eventMetadata({ actor: { subject: 'cmk:audit-sealer', roles: ['platform-operator'] }, commandId: id, correlationId: id, now: new Date() }) }],
    { expectedRevision: last ? last.revision : 'no_stream', commandId: id },
  );
}

/** 25 governance events in three interleaved streams, sealed after 12 and after 21; the last 4 are chain-only. */
async function writeLog(store: EventStore, signer: CheckpointSigner, streams: string[]): Promise<void> {
  const put = async (i: number) => {
    const stream = streams[i % 3];
    const id = randomUUID();
    await store.append(stream, [{ type: 'TenantUpdated', data: { i, changes: { displayName: `Tenant ${i} GmbH`, note: 'ünïcödé "quoted"' } }, metadata: eventMetadata({ actor: ACTOR, commandId: id, correlationId: id, now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }) }], { expectedRevision: 'any', commandId: id });
  };
  for (let i = 0; i < 12; i++) await put(i);
  await seal(store, signer);
  for (let i = 12; i < 21; i++) await put(i);
  await seal(store, signer);
  for (let i = 21; i < 25; i++) await put(i);
}

describe('cmk audit verify --database-url over a live store (real PostgreSQL, superuser tampering)', () => {
  let pool: Pool;
  let schema: string;
  let appRole: string;
  let store: PostgresEventStore;
  let signer: CheckpointSigner;
  let key: string;
  let log: RecordedEvent[];
  let streams: string[];

  const table = () => `"${schema}".events`;
  const event = (stream: string, revision: number) => log.find((e) => e.streamName === stream && e.revision === revision)!;
  const checkpointEvents = () => log.filter((e) => e.streamName === AUDIT_CHECKPOINT_STREAM);
  const verify = (...extra: string[]) => cmk('--json', 'audit', 'verify', '--database-url', testDatabaseUrl(), '--schema', schema, '--page-size', '4', ...extra);
  const verifyWithKey = () => verify('--public-key', key);

  const tamper = (...statements: [string, unknown[]?][]) => tamperAsSuperuser(pool, ...statements);

  beforeEach(async () => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 4 });
    schema = freshSchemaName('verify');
    appRole = `${schema}_app`;
    await migrateEventStore(pool, { schema, appRole });
    store = new PostgresEventStore(pool, { schema, appRole });
    signer = memoryCheckpointSigner();
    key = rawEd25519PublicKey(signer.publicKey).toString('hex');
    streams = ['tenant', 'keylink', 'system'].map((c) => `${c}-${randomUUID()}`);
    await writeLog(store, signer, streams);
    log = await store.readAll();
  });

  afterEach(async () => {
    await store.close();
    await dropEventStore(pool, schema, appRole);
    await pool.end();
  });

  it('an untampered store verifies with the operator key: summary, checkpoints, chain-only tail', async () => {
    expect(log).toHaveLength(27);
    const r = await verifyWithKey();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [, second] = checkpointEvents();
    expect(r.json).toMatchObject({
      ok: true,
      proven: true,
      schema,
      signatures: { checkedAgainst: 'operator-key', keyIds: [signer.keyId] },
      events: 27,
      leaves: 25,
      streams: 4,
      checkpoints: { recorded: 2, verified: 2, signaturesChecked: true },
      lastVerifiedCheckpoint: { treeSize: 21, lastPosition: (second.position - 1n).toString(), keyId: signer.keyId },
      eventsAfterLastCheckpointChainProvenOnly: 4,
      finding: null,
      findings: [],
    });
  });

  it('without --public-key: walks the store but says the signatures were not checked and exits 8, unless --trust-store-key', async () => {
    const unproven = await verify();
    expect(unproven.code).toBe(8);
    expect(unproven.json).toMatchObject({ ok: true, proven: false, signatures: { checkedAgainst: 'unchecked' }, checkpoints: { verified: 2, signaturesChecked: false } });
    expect(unproven.stderr).toContain('checkpoint signatures were NOT checked');
    expect((await verify('--trust-store-key')).code).toBe(0);
  });

  it("modified data: a row's data changed", async () => {
    const target = event(streams[1], 2);
    await tamper([`UPDATE ${table()} SET data = jsonb_set(data, '{i}', '700') WHERE global_position = $1`, [target.position]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'modified', firstBadPosition: target.position.toString(), streamName: streams[1], revision: 2 });
    expect(r.stderr).toContain(`(modified at position ${target.position})`);
  });

  it("modified metadata: the actor rewritten, chain fields left alone", async () => {
    const target = event(streams[0], 5);
    await tamper([`UPDATE ${table()} SET metadata = jsonb_set(metadata, '{actor,subject}', '"mallory"') WHERE global_position = $1`, [target.position]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'modified', firstBadPosition: target.position.toString(), streamName: streams[0], revision: 5 });
  });

  it('deleted row: removed from the middle of a stream, caught at its next event (and by the checkpoint root)', async () => {
    const [gone, next] = [event(streams[2], 4), event(streams[2], 5)];
    await tamper([`DELETE FROM ${table()} WHERE global_position = $1`, [gone.position]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'deleted', firstBadPosition: next.position.toString(), streamName: streams[2], revision: 5 });
    expect(r.json.findings.map((f: { kind: string }) => f.kind)).toEqual(['deleted', 'checkpoint-root']);
  });

  it('inserted row: a forged event appended to a stream with chain fields copied from its last event', async () => {
    const last = event(streams[0], 8);
    await tamper([`INSERT INTO ${table()} (stream_name, revision, event_id, type, data, metadata) VALUES ($1, 9, $2, 'TenantOffboarded', '{}', $3)`, [streams[0], randomUUID(), last.metadata]]);
    const forged = (await store.readStream(streams[0], { fromRevision: 9 }))[0];
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'inserted', firstBadPosition: forged.position.toString(), streamName: streams[0], revision: 9 });
  });

  it('reordered rows: two events of one stream swap positions', async () => {
    const [first, second] = [event(streams[1], 1), event(streams[1], 3)];
    await tamper(
      [`UPDATE ${table()} SET global_position = -1 WHERE global_position = $1`, [first.position]],
      [`UPDATE ${table()} SET global_position = $1 WHERE global_position = $2`, [first.position, second.position]],
      [`UPDATE ${table()} SET global_position = $1 WHERE global_position = -1`, [second.position]],
    );
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'reordered', firstBadPosition: first.position.toString(), streamName: streams[1] });
  });

  it("a checkpoint's signature altered: named by its tree size, found before the walk reaches its (also changed) event", async () => {
    const [first, second] = checkpointEvents();
    // The second checkpoint's (valid) signature pasted onto the first: well-formed, but not over this payload.
    await tamper([`UPDATE ${table()} SET data = jsonb_set(data, '{signature}', $2::jsonb) WHERE global_position = $1`, [first.position, JSON.stringify((second.data as { signature: string }).signature)]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'checkpoint-signature', checkpoint: { treeSize: 12, eventPosition: first.position.toString(), keyId: signer.keyId } });
    expect(r.json.finding.firstBadPosition).toBeUndefined();
    // The walk stops there: nothing later can come before it.
    expect(r.json.findings).toHaveLength(1);
  });

  it('a checkpoint signed by another key: re-signed by a forger over the same root', async () => {
    const [first] = checkpointEvents();
    const data = first.data as { treeSize: number; rootHash: string; time: string; lastPosition: string };
    const forged = await signCheckpointWith(memoryCheckpointSigner(), { treeSize: data.treeSize, rootHash: data.rootHash, time: data.time });
    await tamper([`UPDATE ${table()} SET data = $2 WHERE global_position = $1`, [first.position, { ...forged, lastPosition: data.lastPosition }]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'checkpoint-unknown-key', checkpoint: { treeSize: 12, keyId: forged.keyId } });
    expect(r.json.finding.problem).toContain(`names key ${forged.keyId}, which is not a trusted key (${signer.keyId})`);
  });

  it('the last events deleted, which no chain can show: the covering checkpoint reaches beyond the log', async () => {
    // Every event of the sealed region after position p gone, with the checkpoint that covered it kept.
    const [, second] = checkpointEvents();
    const tail = log.filter((e) => isLeafEvent(e.streamName) && e.position > event(streams[2], 5).position && e.position < second.position);
    await tamper([`DELETE FROM ${table()} WHERE global_position = ANY($1::bigint[]) OR global_position > $2`, [tail.map((e) => e.position.toString()), second.position]]);
    const r = await verifyWithKey();
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'checkpoint-beyond-log', checkpoint: { treeSize: 21 } });
  });

  it('the last checkpoints removed together with their events: only a tree size the auditor already saw shows it', async () => {
    const [first, second] = checkpointEvents();
    await tamper([`DELETE FROM ${table()} WHERE global_position > $1`, [(BigInt((first.data as { lastPosition: string }).lastPosition) + 1n).toString()]]);
    expect((await verifyWithKey()).code).toBe(0);
    const r = await verify('--public-key', key, '--min-tree-size', String((second.data as { treeSize: number }).treeSize));
    expect(r.code).toBe(8);
    expect(r.json.finding).toMatchObject({ kind: 'checkpoint-missing' });
    expect(r.json.finding.problem).toContain('covers 12 events, fewer than the 21 given by --min-tree-size');
  });

  it('refuses --bundle together with a live store, and a store that is not there', async () => {
    // The bundle form of `verify` declares --bundle; whatever declares it, the two sources never mix.
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, fetch: globalThis.fetch };
    await expect(runVerifyStore({ bundle: 'evidence.tar', databaseUrl: testDatabaseUrl() }, io, true)).rejects.toThrow(
      new UsageError('--bundle verifies an exported bundle; it cannot be combined with --database-url or --data-dir'),
    );
    const mixed = await verify('--bundle', 'evidence-dir');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--bundle verifies an exported bundle; it cannot be combined with --database-url or --data-dir');
    const none = await cmk('--json', 'audit', 'verify', '--database-url', testDatabaseUrl(), '--schema', 'no_such_schema', '--trust-store-key');
    expect(none).toMatchObject({ code: 3 });
    expect(none.stderr).toContain('no event store in schema "no_such_schema"');
  });

  it('the real `cmk` process: exit 0 on the intact store, 8 after tampering, key file as `cmk audit key` prints it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cmk-cli-build-'));
    try {
      await promisify(execFile)(
        join(ROOT, 'node_modules/.bin/swc'),
        ['apps/cli/src', 'libs', '-d', out, '--config-file', '.swcrc', '--only', '**/*.ts', '--ignore', '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/testing/**', '--quiet'],
        { cwd: ROOT },
      );
      const doc = publicKeyDocument(signer);
      const keyFile = join(out, 'audit-key.txt');
      writeFileSync(keyFile, `${doc.keyId} (${doc.alg})\n${doc.spkiPem.trim()}\n`);
      const run = () =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, [join(out, 'apps/cli/src/main.js'), 'audit', 'verify', '--database-url', testDatabaseUrl(), '--schema', schema, '--public-key', keyFile], {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules') },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          child.once('exit', (code) => resolve({ code, stdout, stderr }));
        });
      const intact = await run();
      expect(intact).toMatchObject({ code: 0, stderr: '' });
      expect(intact.stdout).toContain('OK: PostgreSQL');
      expect(intact.stdout).toContain('checkpoints: 2 of 2 verified; signatures checked against the given key');
      expect(intact.stdout).toContain('after the last checkpoint: 4 events proven by their hash chains only');
      const target = event(streams[0], 1);
      await tamper([`UPDATE ${table()} SET data = jsonb_set(data, '{i}', '100') WHERE global_position = $1`, [target.position]]);
      const broken = await run();
      expect(broken.code).toBe(8);
      expect(broken.stdout).toContain(`FIRST BAD: position ${target.position} (${streams[0]}@1): modified`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('cmk audit verify --data-dir over an embedded store (real PGlite data directory)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cmk-verify-data-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses while the service holds the directory, then verifies it once stopped; the stored key proves nothing alone', async () => {
    const pgdata = join(dataDir, 'pgdata');
    const db = await openEmbeddedDatabase(pgdata);
    const signer = keyFileCheckpointSigner(join(dataDir, 'audit-signing-ed25519.pem'));
    const streams = ['tenant', 'keylink', 'system'].map((c) => `${c}-${randomUUID()}`);
    try {
      await migrateEventStore(db.pool, { schema: 'cmk_events', appRole: 'cmk_app' });
      const store = new PostgresEventStore(db.pool, { schema: 'cmk_events', appRole: 'cmk_app' });
      await writeLog(store, signer, streams);
      await store.close();
      const busy = await cmk('audit', 'verify', '--data-dir', dataDir, '--trust-store-key');
      expect(busy.code).toBe(7);
      expect(busy.stderr).toContain(`is in use by process ${process.pid} (the service is running)`);
    } finally {
      await db.close();
    }
    const key = rawEd25519PublicKey(signer.publicKey).toString('hex');
    const ok = await cmk('--json', 'audit', 'verify', '--data-dir', dataDir, '--public-key', key);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ ok: true, proven: true, events: 27, leaves: 25, checkpoints: { recorded: 2, verified: 2 }, eventsAfterLastCheckpointChainProvenOnly: 4 });

    const storeKey = await cmk('audit', 'verify', '--data-dir', dataDir);
    expect(storeKey.code).toBe(8);
    expect(storeKey.stdout).toContain(`signatures checked against THE KEY STORED IN THE DATA DIRECTORY (${signer.keyId})`);
    expect(storeKey.stderr).toContain('checked ONLY against the key stored in the data directory');
    expect((await cmk('audit', 'verify', '--data-dir', dataDir, '--trust-store-key')).code).toBe(0);

    const other = memoryCheckpointSigner();
    const wrongKey = await cmk('--json', 'audit', 'verify', '--data-dir', dataDir, '--public-key', rawEd25519PublicKey(other.publicKey).toString('hex'));
    expect(wrongKey.code).toBe(8);
    expect(wrongKey.json.finding).toMatchObject({ kind: 'checkpoint-unknown-key', checkpoint: { treeSize: 12 } });
  }, 120_000);
});
