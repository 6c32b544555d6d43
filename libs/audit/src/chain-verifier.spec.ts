import type { RecordedEvent } from '@cmk/event-store/event-store.port';
import { ChainRecord, ChainWalker, verifyChains } from './chain-verifier';
import { AUDIT_METADATA_KEY, auditFieldsOf, chainFields } from './hash-chain';
import { chainedLog, copyLog } from './testing/chained-log';

/** 12 events over three tenants, interleaved a b c a b c ..., positions 10, 20, ... */
const LOG = chainedLog(
  Array.from({ length: 12 }, (_, i) => ({ stream: `tenant-${'abc'[i % 3]}`, type: 'TenantUpdated', data: { i } })),
  10n,
);
const at = (position: bigint) => LOG.findIndex((e) => e.position === position);

async function* paged(events: readonly RecordedEvent[]): AsyncGenerator<ChainRecord> {
  for (const event of events) yield event;
}

describe('verifyChains', () => {
  it('accepts an intact log, given as an async iterable or an array, and counts what it read', async () => {
    expect(await verifyChains(paged(LOG))).toEqual({ ok: true, eventsRead: 12, eventsVerified: 12, streams: 3 });
    expect(await verifyChains(LOG)).toEqual({ ok: true, eventsRead: 12, eventsVerified: 12, streams: 3 });
    expect(await verifyChains([])).toEqual({ ok: true, eventsRead: 0, eventsVerified: 0, streams: 0 });
  });

  it('modified: names the first bad position, its stream and revision, and stops reading', async () => {
    const events = copyLog(LOG);
    (events[at(50n)].data as { i: number }).i = 500; // tenant-b@1
    (events[at(90n)].data as { i: number }).i = 900;
    const report = await verifyChains(paged(events));
    expect(report).toMatchObject({ ok: false, kind: 'modified', firstBadPosition: 50n, streamName: 'tenant-b', revision: 1, eventsRead: 5, eventsVerified: 4 });
    expect(report.problem).toMatch(/^event at position 50 \(tenant-b@1\) was modified: stored hash [0-9a-f]{64} recomputed [0-9a-f]{64}$/);
  });

  it('deleted: the gap is reported at the next event of the stream once the rest of the log never fills it', async () => {
    const report = await verifyChains(LOG.filter((e) => e.position !== 40n)); // tenant-a@1
    expect(report).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 70n, streamName: 'tenant-a', revision: 2, eventsRead: 11, eventsVerified: 5 });
    expect(report.problem).toBe('event at position 70 (tenant-a@2) follows a gap: revision 1 is missing (deleted)');
  });

  it('deleted with the revisions closed up: a link to a hash the stream never shows', async () => {
    const events = LOG.filter((e) => e.position !== 40n).map((e) => (e.streamName === 'tenant-a' && e.position > 40n ? { ...e, revision: e.revision - 1 } : e));
    expect(await verifyChains(events)).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 70n, revision: 1 });
  });

  it('reordered: two events of one stream swapped in position; the gap is filled later', async () => {
    const events = copyLog(LOG);
    const [i, j] = [at(40n), at(70n)]; // tenant-a@1 and tenant-a@2
    [events[i], events[j]] = [{ ...events[j], position: 40n }, { ...events[i], position: 70n }];
    const report = await verifyChains(events);
    expect(report).toMatchObject({ ok: false, kind: 'reordered', firstBadPosition: 40n, streamName: 'tenant-a', revision: 2 });
    expect(report.problem).toBe(
      "event at position 40 (tenant-a@2) follows a gap: revision 1 is missing (deleted); but event at position 70 (tenant-a@1) is that event: the stream's events were reordered",
    );
  });

  it('reordered with the revisions swapped too: the unknown link is found later in the stream', async () => {
    const events = copyLog(LOG);
    const [i, j] = [at(40n), at(70n)];
    [events[i], events[j]] = [{ ...events[j], position: 40n, revision: 1 }, { ...events[i], position: 70n, revision: 2 }];
    expect(await verifyChains(events)).toMatchObject({ ok: false, kind: 'reordered', firstBadPosition: 40n, revision: 1 });
  });

  it('reordered: positions that do not increase', async () => {
    const events = [...LOG];
    [events[2], events[3]] = [events[3], events[2]];
    expect(await verifyChains(events)).toMatchObject({ ok: false, kind: 'reordered', firstBadPosition: 30n, problem: 'event at position 30 (tenant-c@0) is out of global order: it follows position 40' });
  });

  it('inserted: a forged event with a correct link, its successors renumbered, is named by its own position', async () => {
    const prev = LOG[at(40n)]; // tenant-a@1
    const forged = { ...prev, id: 'forged', position: 45n, revision: 2, data: { forged: true } } as RecordedEvent;
    forged.metadata = { ...prev.metadata, [AUDIT_METADATA_KEY]: chainFields(auditFieldsOf(prev)!, forged) };
    const shifted = LOG.map((e) => (e.streamName === 'tenant-a' && e.position > 40n ? { ...e, revision: e.revision + 1 } : e));
    const events = [...shifted.slice(0, 4), forged, ...shifted.slice(4)];
    const report = await verifyChains(events);
    expect(report).toMatchObject({ ok: false, kind: 'inserted', firstBadPosition: 45n, streamName: 'tenant-a', revision: 2 });
    expect(report.problem).toBe('event at position 45 (tenant-a@2) and revision 3 after it both link to the same predecessor: one of them was inserted');
  });

  it('inserted: an extra event that copies the chain fields of the one before it', async () => {
    const last = LOG[at(100n)]; // tenant-a@3
    const forged = { ...last, id: 'x', position: 125n, revision: 4, data: { forged: true } };
    expect(await verifyChains([...LOG, forged])).toMatchObject({ ok: false, kind: 'inserted', firstBadPosition: 125n, revision: 4 });
  });

  it('an event without chain fields', async () => {
    const events = copyLog(LOG);
    delete events[at(60n)].metadata[AUDIT_METADATA_KEY];
    expect(await verifyChains(events)).toMatchObject({ ok: false, kind: 'missing-chain-fields', firstBadPosition: 60n });
  });

  it('while a gap waits for the rest of the log, a later problem does not take its place', async () => {
    const events = copyLog(LOG.filter((e) => e.position !== 40n)); // gap at 70
    (events[events.findIndex((e) => e.position === 110n)].data as { i: number }).i = -1;
    expect(await verifyChains(events)).toMatchObject({ ok: false, kind: 'deleted', firstBadPosition: 70n });
  });

  it('keeps one head per stream: memory does not grow with the length of a stream', () => {
    const walker = new ChainWalker();
    const long = chainedLog(Array.from({ length: 2_000 }, (_, i) => ({ stream: i % 2 ? 'tenant-x' : 'tenant-y' })));
    for (const event of long) expect(walker.push(event)).toBe(true);
    expect(walker.finish()).toEqual({ ok: true, eventsRead: 2_000, eventsVerified: 2_000, streams: 2 });
    expect((walker as unknown as { heads: Map<string, unknown> }).heads.size).toBe(2);
  });
});
