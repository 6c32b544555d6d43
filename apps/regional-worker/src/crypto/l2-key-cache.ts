/** An L2 key unwrapped (or generated) in this worker's memory. `key` is zeroised when the entry is dropped. */
export interface L2Key {
  readonly tenantId: string;
  readonly keyLinkId: string;
  readonly l2Id: Buffer;
  readonly key: Buffer;
  zeroised: boolean;
}

/**
 * Unwrapped L2 keys, bounded (least recently used dropped first) and indexed by tenant so a revocation can
 * zeroise a tenant's or a link's keys at once. Which key seals new data keys is not kept here: the registry in
 * the tenant view says (its current version), so an L2 rotation needs no cache change.
 */
export class L2KeyCache {
  private readonly byId = new Map<string, L2Key>();
  private readonly byTenant = new Map<string, Set<L2Key>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byId.size;
  }

  /** The tenant's cached keys (tests and diagnostics; never log them). */
  keysOf(tenantId: string): readonly L2Key[] {
    return [...(this.byTenant.get(tenantId) ?? [])];
  }

  /** The cached L2 key a blob names, only if it belongs to this tenant and link. */
  get(tenantId: string, keyLinkId: string, l2Id: Buffer): L2Key | undefined {
    const id = l2Id.toString('hex');
    const entry = this.byId.get(id);
    if (!entry || entry.tenantId !== tenantId || entry.keyLinkId !== keyLinkId) return undefined;
    this.byId.delete(id); // re-insert: Map order is the LRU order
    this.byId.set(id, entry);
    return entry;
  }

  /** Caches the key and returns it; when the same key is cached already, returns that one instead. */
  add(entry: L2Key): L2Key {
    const id = entry.l2Id.toString('hex');
    const existing = this.byId.get(id);
    if (existing) return existing;
    while (this.byId.size >= this.maxEntries) this.drop(this.byId.values().next().value as L2Key);
    this.byId.set(id, entry);
    let tenantKeys = this.byTenant.get(entry.tenantId);
    if (!tenantKeys) this.byTenant.set(entry.tenantId, (tenantKeys = new Set()));
    tenantKeys.add(entry);
    return entry;
  }

  /** Zeroises and drops every key of the tenant (or of one of its links). Returns how many. */
  zeroise(tenantId: string, keyLinkId?: string): number {
    return this.dropWhere(tenantId, (entry) => keyLinkId === undefined || entry.keyLinkId === keyLinkId);
  }

  /** Zeroises and drops the tenant's keys whose link may no longer be used. */
  retain(tenantId: string, usable: (keyLinkId: string) => boolean): number {
    return this.dropWhere(tenantId, (entry) => !usable(entry.keyLinkId));
  }

  zeroiseAll(): number {
    const count = this.byId.size;
    for (const entry of [...this.byId.values()]) this.drop(entry);
    return count;
  }

  private dropWhere(tenantId: string, predicate: (entry: L2Key) => boolean): number {
    const tenantKeys = this.byTenant.get(tenantId);
    if (!tenantKeys) return 0;
    let count = 0;
    for (const entry of [...tenantKeys]) {
      if (!predicate(entry)) continue;
      this.drop(entry);
      count++;
    }
    return count;
  }

  private drop(entry: L2Key): void {
    entry.key.fill(0);
    entry.zeroised = true;
    this.byId.delete(entry.l2Id.toString('hex'));
    const tenantKeys = this.byTenant.get(entry.tenantId);
    tenantKeys?.delete(entry);
    if (tenantKeys?.size === 0) this.byTenant.delete(entry.tenantId);
  }
}
