import type { MeshHeaders } from '../mesh.port';

export interface StoredRecord {
  readonly offset: number;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: MeshHeaders;
  readonly timestamp: number;
  /** Superseded by a later record of the same key in a compacted topic; readers skip it. */
  removed: boolean;
}

/**
 * One partition's log in memory: offsets only grow, records are kept in offset order. A compacted log drops
 * the older record of a key as soon as a newer one arrives (Kafka does the same later, in the background), and
 * retention drops records older than the topic's retention time.
 */
export class PartitionLog {
  private records: StoredRecord[] = [];
  private nextOffset = 0;
  private readonly latestByKey = new Map<string, StoredRecord>();
  private removedCount = 0;

  constructor(
    private readonly compacted: boolean,
    private readonly retentionMs: number | undefined,
  ) {}

  /** The offset the next record will get: the end of the log. */
  get endOffset(): number {
    return this.nextOffset;
  }

  /** The offset of the oldest record still kept (the end when the log is empty). */
  get startOffset(): number {
    const first = this.records.find((r) => !r.removed);
    return first ? first.offset : this.nextOffset;
  }

  append(key: string, value: Buffer, headers: MeshHeaders, timestamp: number): StoredRecord {
    const record: StoredRecord = { offset: this.nextOffset++, key, value, headers, timestamp, removed: false };
    this.records.push(record);
    if (this.compacted) {
      const previous = this.latestByKey.get(key);
      if (previous) {
        previous.removed = true;
        this.removedCount++;
      }
      this.latestByKey.set(key, record);
    }
    this.applyRetention(timestamp);
    this.reclaim();
    return record;
  }

  /** The first kept record at or after `offset`. */
  readFrom(offset: number): StoredRecord | undefined {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.records.length; i++) {
      if (!this.records[i].removed) return this.records[i];
    }
    return undefined;
  }

  private applyRetention(now: number): void {
    if (this.retentionMs === undefined || this.compacted) return;
    const cutoff = now - this.retentionMs;
    let drop = 0;
    while (drop < this.records.length - 1 && this.records[drop].timestamp < cutoff) drop++;
    if (drop > 0) this.records = this.records.slice(drop);
  }

  /** Frees superseded records once they are most of the log; offsets stay as they were. */
  private reclaim(): void {
    if (this.removedCount < 1024 || this.removedCount * 2 < this.records.length) return;
    this.records = this.records.filter((r) => !r.removed);
    this.removedCount = 0;
  }
}
