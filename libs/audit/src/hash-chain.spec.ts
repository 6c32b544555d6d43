import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { canonicalize } from './canonical-json';
import {
  AUDIT_METADATA_KEY,
  auditFieldsOf,
  canonicalContent,
  chainFields,
  contentDigest,
  eventHash,
  GENESIS_HASH,
  linkHash,
  verifyStreamChain,
} from './hash-chain';
import { chainedLog, copyLog, rechain } from './testing/chained-log';

const STREAM = 'tenant-7b0c';
const stream = (n: number): RecordedEvent[] =>
  chainedLog(Array.from({ length: n }, (_, i) => ({ stream: STREAM, type: i === 0 ? 'TenantOnboarded' : 'TenantUpdated', data: { step: i } })));
const sha256 = (...parts: (string | Buffer)[]) => parts.reduce((h, p) => h.update(p), createHash('sha256'));

describe('eventHash', () => {
  const event = {
    streamName: STREAM,
    type: 'KeyLinkRevoked',
    data: { keyLinkId: 'k1', reason: 'compromise', at: 1.5 },
    metadata: { actor: { subject: 'alice', roles: ['admin'] }, commandId: 'cmd-1', audit: { ignored: true } },
  };

  it('is SHA-256(prevHash || SHA-256(JCS({ data, metadata without audit, streamName, type }))) over raw bytes', () => {
    const previousHash = 'ab'.repeat(32);
    const { audit: _, ...metadata } = event.metadata;
    const content = canonicalize({ streamName: STREAM, type: event.type, data: event.data, metadata });
    expect(canonicalContent(event)).toBe(content);
    const digest = sha256(content).digest();
    expect(contentDigest(event)).toEqual(digest);
    const reference = sha256(Buffer.from(previousHash, 'hex'), digest).digest('hex');
    expect(eventHash(previousHash, event)).toBe(reference);
    expect(linkHash(previousHash, digest)).toBe(reference);
  });

  it('matches a fixed vector, so a change of the definition cannot go unnoticed', () => {
    const fixed = { streamName: 'tenant-1', type: 'TenantOnboarded', data: { name: 'Ä', n: 1e21 }, metadata: { b: 1, a: [true, null] } };
    expect(canonicalContent(fixed)).toBe('{"data":{"n":1e+21,"name":"Ä"},"metadata":{"a":[true,null],"b":1},"streamName":"tenant-1","type":"TenantOnboarded"}');
    expect(eventHash(GENESIS_HASH, fixed)).toBe(sha256(Buffer.alloc(32), sha256(canonicalContent(fixed)).digest()).digest('hex'));
  });

  it('does not depend on the audit member or on member order, and does depend on everything else', () => {
    const h = eventHash(GENESIS_HASH, event);
    expect(eventHash(GENESIS_HASH, { ...event, metadata: { commandId: 'cmd-1', actor: { roles: ['admin'], subject: 'alice' } } })).toBe(h);
    for (const changed of [
      { ...event, streamName: 'tenant-other' },
      { ...event, type: 'KeyLinkUnlinked' },
      { ...event, data: { ...event.data, reason: 'rotation' } },
      { ...event, metadata: { ...event.metadata, commandId: 'cmd-2' } },
    ]) {
      expect(eventHash(GENESIS_HASH, changed)).not.toBe(h);
    }
    expect(eventHash('11'.repeat(32), event)).not.toBe(h);
  });

  it('refuses malformed inputs instead of hashing something unverifiable', () => {
    expect(() => eventHash('xyz', event)).toThrow(TypeError);
    expect(() => eventHash('AB'.repeat(32), event)).toThrow(TypeError);
    expect(() => linkHash(GENESIS_HASH, Buffer.alloc(31))).toThrow(RangeError);
    expect(() => eventHash(GENESIS_HASH, { ...event, data: { big: 1n } })).toThrow('bigint has no JSON form');
    expect(() => eventHash(GENESIS_HASH, { ...event, metadata: [] as never })).toThrow('metadata must be a JSON object');
  });
});

describe('chainFields', () => {
  it('starts at the 32-zero-byte genesis and links each event to the one before', () => {
    const [e0, e1, e2] = stream(3);
    const a0 = auditFieldsOf(e0)!;
    expect(a0).toEqual({ alg: 'sha256', prevHash: GENESIS_HASH, hash: eventHash(GENESIS_HASH, e0) });
    expect(GENESIS_HASH).toBe(Buffer.alloc(32).toString('hex'));
    expect(auditFieldsOf(e1)!.prevHash).toBe(a0.hash);
    expect(auditFieldsOf(e2)!.prevHash).toBe(auditFieldsOf(e1)!.hash);
    expect(chainFields(a0.hash, e1)).toEqual(auditFieldsOf(e1));
  });

  it('insists on genesis for revision 0 and on a predecessor for the rest', () => {
    const [e0, e1] = stream(2);
    expect(() => chainFields(auditFieldsOf(e0)!, e0)).toThrow('revision 0 starts a stream');
    expect(() => chainFields(null, e1)).toThrow('revision 1 needs a previous hash');
    expect(() => chainFields(null, { ...e0, revision: -1 })).toThrow(RangeError);
  });
});

describe('verifyStreamChain', () => {
  it('accepts an intact stream and an empty one', () => {
    const events = stream(5);
    const [a3, a4] = [auditFieldsOf(events[3])!, auditFieldsOf(events[4])!];
    expect(verifyStreamChain(events)).toEqual({ ok: true, head: { streamName: STREAM, revision: 4, hash: a4.hash, prevHash: a3.hash } });
    expect(verifyStreamChain([])).toEqual({ ok: true });
  });

  it('modified: data changed after the fact', () => {
    const events = copyLog(stream(5));
    (events[2].data as { step: number }).step = 99;
    const report = verifyStreamChain(events);
    expect(report).toMatchObject({ ok: false, kind: 'modified', revision: 2, index: 2 });
    expect(!report.ok && report.problem).toMatch(/^tenant-7b0c@2 was modified: stored hash [0-9a-f]{64} recomputed [0-9a-f]{64}$/);
  });

  it('modified: metadata changed (other than the chain fields), or the stored hash itself', () => {
    const events = copyLog(stream(3));
    events[1].metadata.correlationId = 'forged';
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, kind: 'modified', revision: 1 });
    const other = copyLog(stream(3));
    (other[2].metadata[AUDIT_METADATA_KEY] as { hash: string }).hash = 'ee'.repeat(32);
    expect(verifyStreamChain(other)).toMatchObject({ ok: false, kind: 'modified', revision: 2 });
  });

  it('deleted: a revision gap', () => {
    const events = stream(5);
    const report = verifyStreamChain([...events.slice(0, 2), ...events.slice(3)]);
    expect(report).toMatchObject({ ok: false, kind: 'deleted', revision: 3, index: 2, missingRevision: 2, problem: 'tenant-7b0c@3 follows a gap: revision 2 is missing (deleted)' });
    expect(verifyStreamChain(events.slice(2))).toMatchObject({ kind: 'deleted', revision: 2, problem: 'tenant-7b0c@2 follows a gap: revisions 0..1 are missing (deleted)' });
  });

  it('deleted with the revisions closed up: the successor links to a hash the stream does not show', () => {
    const events = stream(5);
    const closedUp = [...events.slice(0, 2), ...events.slice(3).map((e) => ({ ...e, revision: e.revision - 1 }))];
    const report = verifyStreamChain(closedUp);
    expect(report).toMatchObject({ ok: false, kind: 'deleted', revision: 2, index: 2, unknownPrevHash: auditFieldsOf(events[2])!.hash });
    expect(!report.ok && report.problem).toContain('names an event this stream does not show');
    const firstGone = verifyStreamChain(events.slice(1).map((e) => ({ ...e, revision: e.revision - 1 })));
    expect(firstGone).toMatchObject({ ok: false, kind: 'deleted', revision: 0, index: 0 });
  });

  it('inserted: a forged event spliced in with a correct link, its successors renumbered: the successor links past it', () => {
    const events = stream(4);
    const forged = { ...events[2], data: { step: 'forged' } };
    forged.metadata = { ...forged.metadata, [AUDIT_METADATA_KEY]: chainFields(auditFieldsOf(events[1])!, forged) };
    const renumbered = events.slice(2).map((e) => ({ ...e, revision: e.revision + 1 }));
    const report = verifyStreamChain([events[0], events[1], forged, ...renumbered]);
    expect(report).toMatchObject({ ok: false, kind: 'inserted', revision: 2, index: 2, atHead: true });
    expect(!report.ok && report.problem).toBe('tenant-7b0c@2 and revision 3 after it both link to the same predecessor: one of them was inserted');
  });

  it('inserted: a copy of an event, or a forged one that copies its chain fields, at the next revision', () => {
    const events = stream(3);
    expect(verifyStreamChain([...events, { ...events[2], revision: 3 }])).toMatchObject({ ok: false, kind: 'inserted', revision: 3, index: 3, problem: 'tenant-7b0c@3 is a copy of revision 2 (same content and link)' });
    const forged = { ...events[2], revision: 3, data: { step: 'forged' } };
    expect(verifyStreamChain([...events, forged])).toMatchObject({ ok: false, kind: 'inserted', revision: 3, index: 3 });
    expect(verifyStreamChain([events[0], events[1], events[1]])).toMatchObject({ ok: false, kind: 'inserted', revision: 1, index: 2, problem: 'tenant-7b0c@1 is a second event with revision 1' });
  });

  it('reordered: a revision below one already seen', () => {
    const events = stream(4);
    expect(verifyStreamChain([events[0], events[2], events[1], events[3]])).toMatchObject({ ok: false, kind: 'deleted', revision: 2, missingRevision: 1 });
    expect(verifyStreamChain([events[0], events[1], events[2], events[0]])).toMatchObject({ ok: false, kind: 'reordered', revision: 0, index: 3 });
  });

  it('reordered with revisions rewritten to hide it: the links break', () => {
    const events = stream(4);
    const swapped = [events[0], { ...events[2], revision: 1 }, { ...events[1], revision: 2 }, events[3]];
    expect(verifyStreamChain(swapped)).toMatchObject({ ok: false, kind: 'deleted', revision: 1, unknownPrevHash: auditFieldsOf(events[1])!.hash });
  });

  it('missing or malformed chain fields', () => {
    const events = copyLog(stream(2));
    delete events[1].metadata[AUDIT_METADATA_KEY];
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, kind: 'missing-chain-fields', revision: 1 });
    const other = copyLog(stream(1));
    other[0].metadata[AUDIT_METADATA_KEY] = { alg: 'md5', prevHash: GENESIS_HASH, hash: GENESIS_HASH };
    expect(verifyStreamChain(other)).toMatchObject({ ok: false, kind: 'missing-chain-fields', revision: 0 });
  });

  it('an event of another stream', () => {
    const events = stream(2);
    const foreign = chainedLog([{ stream: 'tenant-else' }, { stream: 'tenant-else' }]);
    expect(verifyStreamChain([events[0], foreign[1]])).toMatchObject({ ok: false, kind: 'wrong-stream' });
  });

  it('a forger who re-chains the whole stream passes the chain (the signed checkpoints are what catch that)', () => {
    const events = copyLog(stream(3));
    (events[1].data as { step: number }).step = 42;
    expect(verifyStreamChain(rechain(events, STREAM))).toMatchObject({ ok: true });
  });
});
