import type { Logger } from 'pino';
import type { KeyProvider } from '@cmk/key-providers';
import { keyLinkUsable, KeyLinkView, staleTenantKeys, TenantKeyRewrappedMessage, tenantKeyById, TenantViewStore } from '@cmk/orbital';
import { ProviderNotConfiguredError, TenantKeyUnavailable } from '../worker.errors';
import { l1Aad, L2_KEY_BYTES, l2Fingerprint } from './envelope';

export interface TenantKeyRewrapperDeps {
  store: TenantViewStore;
  workerId: string;
  region: string;
  providers: ReadonlyMap<string, KeyProvider>;
  /** Sends a re-wrapped L2 key to the mesh bridge, which records the first one per (L2 key, L1 version). */
  report(message: TenantKeyRewrappedMessage): void;
  log: Logger;
}

/**
 * L1 rotation: when a view shows a link's L1 key at a version its registered L2 keys were not wrapped under,
 * this worker wraps each of them again under L1 (the provider wraps under its current version) and reports it.
 * Only the wrapped copies change: the L2 keys, and so every blob, stay as they are.
 *
 * Every worker serving the tenant does this on seeing the new version, so it happens while any of them runs;
 * the bridge records the first report per (L2 key, L1 version) and the fold ignores the rest, so doing it
 * twice is harmless. The view is read again just before each re-wrap, so a worker that sees another's report
 * first does nothing. One re-wrap at a time per worker, to keep the load on the customer's HSM small.
 */
export class TenantKeyRewrapper {
  /** Re-wraps queued or reported, by link, L2 id and target L1 version. */
  private readonly started = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TenantKeyRewrapperDeps) {}

  /** After a tenant's view changed: queue a re-wrap for every registered L2 key left under an older L1 version. */
  onView(tenantId: string): void {
    const served = this.deps.store.get(tenantId)?.served;
    if (!served) return;
    for (const link of served.keyLinks.values()) {
      if (!keyLinkUsable(this.deps.store, tenantId, link.keyLinkId)) continue;
      for (const stale of staleTenantKeys(link)) {
        const target = link.l1KeyVersion!;
        const id = `${link.keyLinkId}\u0000${stale.l2Id}\u0000${target}`;
        if (this.started.has(id)) continue;
        this.started.add(id);
        this.queue = this.queue
          .then(() => this.rewrap(tenantId, link.keyLinkId, stale.l2Id, target))
          .catch((error: Error) => {
            // Forgotten, so the next view change tries again.
            this.started.delete(id);
            this.deps.log.error({ tenantId, keyLinkId: link.keyLinkId, l2Id: stale.l2Id, l1KeyVersion: target, err: error.message }, 'could not re-wrap an L2 key under the new L1 version');
          });
      }
    }
  }

  /** Resolves once every queued re-wrap has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async rewrap(tenantId: string, keyLinkId: string, l2IdHex: string, target: string): Promise<void> {
    // Read again: another worker's report may have landed meanwhile, the L1 version moved on, or the link was cut.
    const link = this.deps.store.get(tenantId)?.served?.keyLinks.get(keyLinkId);
    if (!link || link.l1KeyVersion !== target || !keyLinkUsable(this.deps.store, tenantId, keyLinkId)) return;
    const registered = tenantKeyById(link, l2IdHex);
    if (!registered || registered.l1KeyVersion === target) return;
    const provider = this.provider(link);
    const aad = l1Aad(tenantId, keyLinkId, Buffer.from(l2IdHex, 'hex'));
    const l2 = await provider.unwrap(link.keyReference, Buffer.from(registered.wrappedL2, 'base64'), aad);
    try {
      if (l2.length !== L2_KEY_BYTES || l2Fingerprint(l2) !== registered.l2Fingerprint) throw new TenantKeyUnavailable('tenant-key-integrity');
      const { ciphertext } = await provider.wrap(link.keyReference, l2, aad);
      // Checked before it is reported: a wrap that does not open to the same key would lose every blob under it.
      const check = await provider.unwrap(link.keyReference, ciphertext, aad);
      const same = check.equals(l2);
      check.fill(0);
      if (!same) throw new TenantKeyUnavailable('tenant-key-integrity');
      if (!keyLinkUsable(this.deps.store, tenantId, keyLinkId)) return;
      this.deps.report({
        kind: 'tenant-key-rewrapped',
        workerId: this.deps.workerId,
        region: this.deps.region,
        tenantId,
        keyLinkId,
        l2Id: l2IdHex,
        wrappedL2: ciphertext.toString('base64'),
        l1KeyVersion: target,
        ...(registered.l1KeyVersion ? { previousL1KeyVersion: registered.l1KeyVersion } : {}),
      });
      this.deps.log.info({ tenantId, keyLinkId, l2Id: l2IdHex, l1KeyVersion: target }, 'L2 key re-wrapped under the new L1 version');
    } finally {
      l2.fill(0);
    }
  }

  private provider(link: KeyLinkView): KeyProvider {
    const provider = this.deps.providers.get(link.providerKind);
    if (!provider) throw new ProviderNotConfiguredError(link.providerKind);
    return provider;
  }
}
