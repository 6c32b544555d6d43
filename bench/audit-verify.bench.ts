/**
 * `cmk audit verify` throughput: the streaming hash-chain verifier (verifyChains) over 1,000,000 chained events,
 * versus the floor in the same run: raw SHA-256 over the same canonical content bytes (what any verifier must at
 * least hash once per event), with no canonicalisation, linking or bookkeeping. The floor is taken with the
 * cheapest call node:crypto has (one-shot `hash`, digest as a one-byte string: the call the verifier itself uses),
 * so the ratio is not flattered; the streaming createHash API is reported beside it for comparison.
 *
 * The events are generated IN MEMORY with the real chain code (chainFields, as the event stores write it), shaped
 * like the control plane's (tenant, key link and system streams, actor/command/correlation metadata), and fed to
 * the verifier as an async iterable in pages of 1,000, as eventsInGlobalOrder reads a live store. No database: the
 * figure is the verifier's own cost; reading from PostgreSQL adds the read path's (see the rebuild bench).
 */
import { createHash, hash, randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@cmk/event-store';
import { verifyChains } from '@cmk/audit/chain-verifier';
import { StoreLogVerifier } from '@cmk/audit/store-reader/store-log-verifier';
import { AUDIT_METADATA_KEY, AuditFields, canonicalContent, chainFields } from '@cmk/audit/hash-chain';
import { fmt, report } from './bench-util';

const TOTAL = Number(process.env.CMK_BENCH_EVENTS ?? 1_000_000);
const PAGE = 1_000;
const ROUNDS = 3;
const TENANTS = 20_000;

function generate(): RecordedEvent[] {
  const heads = new Map<string, { revision: number; audit: AuditFields }>();
  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  const events: RecordedEvent[] = new Array(TOTAL);
  for (let i = 0; i < TOTAL; i++) {
    const tenantId = tenants[i % TENANTS];
    const kind = Math.floor(i / TENANTS) % 3;
    const streamName = kind === 0 ? `tenant-${tenantId}` : kind === 1 ? `keylink-${tenantId}` : `system-${tenantId}`;
    const type = kind === 0 ? 'TenantUpdated' : kind === 1 ? 'KeyLinkRotated' : 'SystemRegistered';
    const data =
      kind === 0
        ? { tenantId, changes: { displayName: `Tenant ${i} GmbH`, contacts: ['ops@example.com'] } }
        : kind === 1
          ? { keyLinkId: tenantId, tenantId, keyReference: 'pkcs11:token=t;object=k', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' }
          : { systemId: tenantId, tenantId, name: 'svc', region: 'eu-central-1' };
    const metadata: Record<string, unknown> = {
      actor: { subject: 'bench', roles: ['platform-operator'] },
      commandId: `cmd-${i}`,
      correlationId: `corr-${i}`,
      occurredAt: new Date(Date.UTC(2025, 0, 1) + i).toISOString(),
      schemaVersion: 1,
    };
    const head = heads.get(streamName);
    const revision = head ? head.revision + 1 : 0;
    const base = { id: `e-${i}`, streamName, revision, position: BigInt(i + 1), type, data, metadata, recordedAt: new Date(0) };
    const audit = chainFields(head ? head.audit : null, base);
    metadata[AUDIT_METADATA_KEY] = audit;
    heads.set(streamName, { revision, audit });
    events[i] = base;
  }
  return events;
}

async function* inPages(events: readonly RecordedEvent[]): AsyncGenerator<RecordedEvent> {
  for (let from = 0; from < events.length; from += PAGE) {
    // One await per page, as a paged read of a store has.
    const page = await Promise.resolve(events.slice(from, from + PAGE));
    yield* page;
  }
}

async function timeVerify(events: readonly RecordedEvent[]): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await verifyChains(inPages(events));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!result.ok || result.eventsVerified !== events.length) throw new Error(`verification failed on an intact log: ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return seconds;
}

/** What `cmk audit verify` over a store runs per event: the chain walk plus the Merkle tree over the chain hashes. */
function timeStoreVerifier(events: readonly RecordedEvent[]): number {
  const started = process.hrtime.bigint();
  const verifier = new StoreLogVerifier([], {});
  for (const event of events) verifier.push(event);
  const result = verifier.finish();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!result.ok || result.leaves !== events.length) throw new Error('the store verifier failed on an intact log');
  return seconds;
}

/** The floor: SHA-256 once over each event's canonical content bytes, prepared beforehand in one buffer. */
function timeFloor(bytes: Buffer, offsets: Uint32Array, streaming: boolean): number {
  const started = process.hrtime.bigint();
  let check = 0;
  for (let i = 0; i + 1 < offsets.length; i++) {
    const content = bytes.subarray(offsets[i], offsets[i + 1]);
    check ^= streaming ? createHash('sha256').update(content).digest()[0] : hash('sha256', content, 'binary').charCodeAt(0);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (check < 0) throw new Error('unreachable: keeps the digests from being optimised away');
  return seconds;
}

function canonicalBytesOf(events: readonly RecordedEvent[]): { bytes: Buffer; offsets: Uint32Array } {
  const parts = events.map((event) => Buffer.from(canonicalContent(event), 'utf8'));
  const offsets = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
  return { bytes: Buffer.concat(parts), offsets };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const generatedAt = process.hrtime.bigint();
  const events = generate();
  const generateSeconds = Number(process.hrtime.bigint() - generatedAt) / 1e9;
  const { bytes, offsets } = canonicalBytesOf(events);
  const streams = new Set(events.map((e) => e.streamName)).size;

  const verify: number[] = [];
  const floor: number[] = [];
  const streamingFloor: number[] = [];
  const withTree: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    verify.push(await timeVerify(events));
    withTree.push(timeStoreVerifier(events));
    floor.push(timeFloor(bytes, offsets, false));
    streamingFloor.push(timeFloor(bytes, offsets, true));
  }
  const verifyRate = TOTAL / median(verify);
  const floorRate = TOTAL / median(floor);
  const streamingRate = TOTAL / median(streamingFloor);
  report(`Audit verify (${fmt(TOTAL)} chained events in ${fmt(streams)} streams, generated in memory with chainFields; median of ${ROUNDS} rounds)`, [
    ['verifyChains over an async iterable in pages of 1,000, events/s', fmt(verifyRate)],
    ['floor: raw SHA-256 over the same canonical content bytes (one-shot crypto.hash), events/s', fmt(floorRate)],
    ['ratio verify ÷ floor', fmt(verifyRate / floorRate, 2)],
    ['for comparison: the same with createHash().update().digest(), events/s', fmt(streamingRate)],
    ['ratio verify ÷ createHash floor', fmt(verifyRate / streamingRate, 2)],
    ['chains + Merkle tree over the chain hashes (StoreLogVerifier, as `cmk audit verify --database-url` walks), events/s', fmt(TOTAL / median(withTree))],
    ['mean canonical content size, bytes', fmt(bytes.length / TOTAL)],
    ['generating the chained log (canonicalise + 2 × SHA-256 per event), events/s', fmt(TOTAL / generateSeconds)],
    ['target', '>= 100,000 events/s and ratio >= 0.3'],
  ]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
