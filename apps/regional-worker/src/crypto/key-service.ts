import { randomBytes } from 'node:crypto';
import { InvalidCiphertextError, KeyProvider } from '@cmk/key-providers';
import { AccessDecision, AccessOperation, decideAccess, denial, keyLinkUsable, KeyLinkView, TenantViewStore } from '@cmk/orbital';
import type { HeartbeatClock, MonotonicClock } from '../view/heartbeat-clock';
import { ProviderNotConfiguredError, RequestDenied } from '../worker.errors';
import { BlobAuthenticationError, encodeHeader, l1Aad, L2_ID_BYTES, L2_KEY_BYTES, open, parseBlob, ParsedBlob, seal } from './envelope';
import { L2Key, L2KeyCache } from './l2-key-cache';

/** Who a request acts for, from its verified token. */
export interface WorkloadIdentity {
  subject: string;
  tenantId: string;
  systemId: string;
}

export interface KeyServiceDeps {
  store: TenantViewStore;
  region: string;
  heartbeat: HeartbeatClock;
  now: MonotonicClock;
  /** By provider kind (`pkcs11`, ...), as key links name them. */
  providers: ReadonlyMap<string, KeyProvider>;
  cache: L2KeyCache;
  /** Called once per request with its final decision (metrics, usage). */
  onDecision(operation: AccessOperation, identity: WorkloadIdentity, decision: AccessDecision): void;
}

/**
 * Data keys under the hierarchy L1 (customer's provider) → L2 (per key link, generated here, cached
 * unwrapped) → data key. Every request is decided locally first, and a denial never reaches the provider.
 * After every await (a provider call) the decision is taken again: a revocation that arrived meanwhile wins,
 * and the key just unwrapped is zeroised instead of used or cached.
 */
export class KeyService {
  private readonly creating = new Map<string, Promise<L2Key>>();

  constructor(private readonly deps: KeyServiceDeps) {}

  async generateDataKey(identity: WorkloadIdentity, bytes: number): Promise<{ keyLinkId: string; plaintext: Buffer; blob: Buffer }> {
    return this.decided('generate-data-key', identity, undefined, async (keyLink, recheck) => {
      const l2 = await this.currentL2(identity.tenantId, keyLink, recheck);
      const plaintext = randomBytes(bytes);
      return { keyLinkId: keyLink.keyLinkId, plaintext, blob: seal(l2.key, l2.header, identity.tenantId, identity.systemId, plaintext) };
    });
  }

  async wrap(identity: WorkloadIdentity, plaintext: Buffer): Promise<{ keyLinkId: string; blob: Buffer }> {
    return this.decided('wrap', identity, undefined, async (keyLink, recheck) => {
      const l2 = await this.currentL2(identity.tenantId, keyLink, recheck);
      return { keyLinkId: keyLink.keyLinkId, blob: seal(l2.key, l2.header, identity.tenantId, identity.systemId, plaintext) };
    });
  }

  /** @throws MalformedBlobError before any decision when the blob cannot be read. */
  async unwrap(identity: WorkloadIdentity, blob: Buffer): Promise<{ keyLinkId: string; plaintext: Buffer }> {
    const parsed = parseBlob(blob);
    return this.decided('unwrap', identity, parsed.keyLinkId, async (keyLink, recheck) => {
      const l2 = this.deps.cache.get(identity.tenantId, keyLink.keyLinkId, parsed.l2Id) ?? (await this.unwrapL2(identity.tenantId, keyLink, parsed, recheck));
      return { keyLinkId: keyLink.keyLinkId, plaintext: open(l2.key, parsed, identity.tenantId, identity.systemId) };
    });
  }

  private async decided<T>(
    operation: AccessOperation,
    identity: WorkloadIdentity,
    keyLinkId: string | undefined,
    work: (keyLink: KeyLinkView, recheck: () => void) => Promise<T>,
  ): Promise<T> {
    const decide = () => decideAccess(this.deps.store, this.deps.region, this.deps.now(), this.deps.heartbeat.lastHeartbeatAt, { tenantId: identity.tenantId, systemId: identity.systemId, keyLinkId, operation });
    let decision = decide();
    try {
      if (!decision.allowed) throw new RequestDenied(decision.reason);
      const keyLink = decision.keyLink;
      return await work(keyLink, () => {
        decision = decide();
        if (!decision.allowed) throw new RequestDenied(decision.reason);
        // The system moved to another link meanwhile: the key in hand is not the one to use any more.
        if (decision.keyLink.keyLinkId !== keyLink.keyLinkId) {
          decision = denial('key-link-not-active');
          throw new RequestDenied('key-link-not-active');
        }
      });
    } finally {
      this.deps.onDecision(operation, identity, decision);
    }
  }

  /** This worker's L2 key for the link, generated and L1-wrapped on first use (once, however many ask). */
  private async currentL2(tenantId: string, keyLink: KeyLinkView, recheck: () => void): Promise<L2Key> {
    const cached = this.deps.cache.currentFor(tenantId, keyLink.keyLinkId);
    if (cached) return cached;
    const id = `${tenantId}\u0000${keyLink.keyLinkId}`;
    for (let attempt = 0; ; attempt++) {
      let pending = this.creating.get(id);
      if (!pending) {
        pending = this.createL2(tenantId, keyLink).finally(() => this.creating.delete(id));
        this.creating.set(id, pending);
      }
      const l2 = await pending;
      recheck();
      // Still allowed, yet zeroised: the bounded cache evicted it meanwhile. Make another.
      if (!l2.zeroised) return l2;
      if (attempt === 2) throw new Error('L2 keys are evicted faster than they are used: raise CMK_WORKER_L2_CACHE_SIZE');
    }
  }

  private async createL2(tenantId: string, keyLink: KeyLinkView): Promise<L2Key> {
    const key = randomBytes(L2_KEY_BYTES);
    const l2Id = randomBytes(L2_ID_BYTES);
    const { ciphertext } = await this.provider(keyLink).wrap(keyLink.keyReference, key, l1Aad(tenantId, keyLink.keyLinkId, l2Id));
    const header = encodeHeader({ keyLinkId: keyLink.keyLinkId, l2Id, wrappedL2: ciphertext });
    return this.keep({ tenantId, keyLinkId: keyLink.keyLinkId, l2Id, header, key, zeroised: false }, true);
  }

  private async unwrapL2(tenantId: string, keyLink: KeyLinkView, blob: ParsedBlob, recheck: () => void): Promise<L2Key> {
    let unwrapped: Buffer;
    try {
      unwrapped = await this.provider(keyLink).unwrap(keyLink.keyReference, blob.wrappedL2, l1Aad(tenantId, keyLink.keyLinkId, blob.l2Id));
    } catch (error) {
      if (error instanceof InvalidCiphertextError) throw new BlobAuthenticationError();
      throw error;
    }
    // Our own copy, so zeroising it is not undone by whatever else shares the provider's buffer.
    const key = Buffer.alloc(L2_KEY_BYTES);
    const valid = unwrapped.length === L2_KEY_BYTES;
    if (valid) unwrapped.copy(key);
    unwrapped.fill(0);
    if (!valid) throw new BlobAuthenticationError();
    const l2 = this.keep({ tenantId, keyLinkId: keyLink.keyLinkId, l2Id: Buffer.from(blob.l2Id), header: Buffer.from(blob.header), key, zeroised: false }, false);
    recheck();
    if (l2.zeroised) throw new RequestDenied('key-link-revoked');
    return l2;
  }

  /** Caches the key unless the view revoked its link while the provider was working; then zeroises it. */
  private keep(l2: L2Key, asCurrent: boolean): L2Key {
    const kept = keyLinkUsable(this.deps.store, l2.tenantId, l2.keyLinkId) ? this.deps.cache.add(l2, asCurrent) : undefined;
    if (kept !== l2) {
      l2.key.fill(0);
      l2.zeroised = true;
    }
    return kept ?? l2;
  }

  private provider(keyLink: KeyLinkView): KeyProvider {
    const provider = this.deps.providers.get(keyLink.providerKind);
    if (!provider) throw new ProviderNotConfiguredError(keyLink.providerKind);
    return provider;
  }
}
