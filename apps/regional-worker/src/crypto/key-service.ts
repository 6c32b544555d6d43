import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { InvalidCiphertextError, KeyProvider } from '@cmk/key-providers';
import {
  AccessDecision,
  AccessOperation,
  decideAccess,
  denial,
  keyLinkUsable,
  KeyLinkView,
  sealVersionOf,
  TenantKeyGeneratedMessage,
  TenantKeyView,
  tenantKeyById,
  tenantKeyOfVersion,
  TenantViewStore,
} from '@cmk/orbital';
import type { HeartbeatClock, MonotonicClock } from '../view/heartbeat-clock';
import type { ViewChanges } from '../view/view-changes';
import { ProviderNotConfiguredError, RequestDenied, TenantKeyUnavailable } from '../worker.errors';
import { BlobAuthenticationError, encodeHeader, l1Aad, L2_ID_BYTES, L2_KEY_BYTES, l2Fingerprint, open, parseBlob, ParsedBlob, seal } from './envelope';
import { L2Key, L2KeyCache } from './l2-key-cache';

/** Who a request acts for, from its verified token. */
export interface WorkloadIdentity {
  subject: string;
  tenantId: string;
  systemId: string;
}

export interface KeyServiceDeps {
  store: TenantViewStore;
  workerId: string;
  region: string;
  heartbeat: HeartbeatClock;
  now: MonotonicClock;
  /** By provider kind (`pkcs11`, ...), as key links name them. */
  providers: ReadonlyMap<string, KeyProvider>;
  cache: L2KeyCache;
  /** Sends a new L2 key for registration (to the mesh bridge, which records the first one per version). */
  propose(message: TenantKeyGeneratedMessage): void;
  views: ViewChanges;
  /** How long a request waits for its new L2 key to come back registered. */
  registrationTimeoutMs: number;
  /** Called once per request with its final decision (metrics, usage, denial records); `keyLinkId` is the link the request named (unwrap). */
  onDecision(operation: AccessOperation, identity: WorkloadIdentity, decision: AccessDecision, keyLinkId: string | undefined): void;
}

/**
 * Data keys under the hierarchy L1 (customer's provider) → L2 (per key link and version, registered through the
 * mesh, cached unwrapped) → data key. Every request is decided locally first, and a denial never reaches the
 * provider. After every await (a provider call, a registration) the decision is taken again: a revocation that
 * arrived meanwhile wins, and the key just unwrapped is zeroised instead of used or cached.
 *
 * New data keys are sealed only under the L2 key the view registers for the link's current version; when none
 * is registered yet, this worker makes one, proposes it and waits until the view names the winner (its own or
 * another worker's). A blob is therefore never sealed under a key that is not durably recorded.
 */
export class KeyService {
  private readonly registering = new Map<string, Promise<L2Key | undefined>>();
  private readonly opening = new Map<string, Promise<L2Key>>();

  constructor(private readonly deps: KeyServiceDeps) {}

  async generateDataKey(identity: WorkloadIdentity, bytes: number): Promise<{ keyLinkId: string; plaintext: Buffer; blob: Buffer }> {
    return this.decided('generate-data-key', identity, undefined, async (keyLink, recheck) => {
      const l2 = await this.sealingKey(identity.tenantId, keyLink, recheck);
      const plaintext = randomBytes(bytes);
      return { keyLinkId: keyLink.keyLinkId, plaintext, blob: seal(l2.key, encodeHeader(l2), identity.tenantId, identity.systemId, plaintext) };
    });
  }

  async wrap(identity: WorkloadIdentity, plaintext: Buffer): Promise<{ keyLinkId: string; blob: Buffer }> {
    return this.decided('wrap', identity, undefined, async (keyLink, recheck) => {
      const l2 = await this.sealingKey(identity.tenantId, keyLink, recheck);
      return { keyLinkId: keyLink.keyLinkId, blob: seal(l2.key, encodeHeader(l2), identity.tenantId, identity.systemId, plaintext) };
    });
  }

  /** @throws MalformedBlobError before any decision when the blob cannot be read. */
  async unwrap(identity: WorkloadIdentity, blob: Buffer): Promise<{ keyLinkId: string; plaintext: Buffer }> {
    const parsed = parseBlob(blob);
    return this.decided('unwrap', identity, parsed.keyLinkId, async (keyLink, recheck) => {
      const l2 = await this.openingKey(identity.tenantId, keyLink, parsed);
      recheck();
      if (l2.zeroised) throw new RequestDenied('key-link-revoked');
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
    } catch (error) {
      if (error instanceof RequestDenied && decision.allowed) decision = denial(error.reason);
      throw error;
    } finally {
      this.deps.onDecision(operation, identity, decision, keyLinkId);
    }
  }

  /** The registered L2 key of the link's current version, registering a new one first when there is none. */
  private async sealingKey(tenantId: string, keyLink: KeyLinkView, recheck: () => void): Promise<L2Key> {
    for (let attempt = 0; ; attempt++) {
      const link = this.linkNow(tenantId, keyLink.keyLinkId) ?? keyLink;
      const version = sealVersionOf(link);
      const registered = tenantKeyOfVersion(link, version);
      const l2 = registered ? await this.openRegistered(tenantId, link, registered) : await this.registration(tenantId, link, version);
      recheck();
      if (!l2) throw new RequestDenied('key-link-not-active');
      // An L2 rotation seen meanwhile: seal under the new version only. Zeroised though allowed: evicted.
      const stillCurrent = sealVersionOf(this.linkNow(tenantId, keyLink.keyLinkId) ?? link) === version;
      if (!l2.zeroised && stillCurrent) return l2;
      if (attempt === 2) throw new Error('the L2 key changed under this request three times (evicted or rotated): raise CMK_WORKER_L2_CACHE_SIZE if it keeps happening');
    }
  }

  private registration(tenantId: string, link: KeyLinkView, version: number): Promise<L2Key | undefined> {
    const id = `${tenantId}\u0000${link.keyLinkId}\u0000${version}`;
    let pending = this.registering.get(id);
    if (!pending) {
      pending = this.register(tenantId, link, version).finally(() => this.registering.delete(id));
      this.registering.set(id, pending);
    }
    return pending;
  }

  /**
   * Makes an L2 key, wraps it under L1, proposes it and waits for the view to name the key registered for the
   * version. Resolves with that key (ours, or another worker's unwrapped), or undefined when the link may no
   * longer be used. Our key is zeroised unless it is the one registered.
   */
  private async register(tenantId: string, link: KeyLinkView, version: number): Promise<L2Key | undefined> {
    const { keyLinkId } = link;
    const candidate: L2Key = { tenantId, keyLinkId, l2Id: randomBytes(L2_ID_BYTES), key: randomBytes(L2_KEY_BYTES), zeroised: false };
    const l2Id = candidate.l2Id.toString('hex');
    let adopted = false;
    try {
      const { ciphertext } = await this.provider(link).wrap(link.keyReference, candidate.key, l1Aad(tenantId, keyLinkId, candidate.l2Id));
      this.deps.propose({
        kind: 'tenant-key-generated',
        workerId: this.deps.workerId,
        region: this.deps.region,
        tenantId,
        keyLinkId,
        l2Id,
        l2Version: version,
        wrappedL2: ciphertext.toString('base64'),
        ...(link.l1KeyVersion ? { l1KeyVersion: link.l1KeyVersion } : {}),
        l2Fingerprint: l2Fingerprint(candidate.key),
      });
      const deadline = performance.now() + this.deps.registrationTimeoutMs;
      for (;;) {
        const now = this.linkNow(tenantId, keyLinkId);
        if (!now || !keyLinkUsable(this.deps.store, tenantId, keyLinkId)) return undefined;
        const registered = tenantKeyOfVersion(now, version);
        if (registered?.l2Id === l2Id) {
          adopted = true;
          return this.keep(candidate);
        }
        if (registered) return await this.openRegistered(tenantId, now, registered);
        if (!(await this.deps.views.next(tenantId, deadline - performance.now()))) throw new TenantKeyUnavailable('tenant-key-not-registered');
      }
    } finally {
      if (!adopted) {
        candidate.key.fill(0);
        candidate.zeroised = true;
      }
    }
  }

  private async openingKey(tenantId: string, keyLink: KeyLinkView, blob: ParsedBlob): Promise<L2Key> {
    const cached = this.deps.cache.get(tenantId, keyLink.keyLinkId, blob.l2Id);
    if (cached) return cached;
    if (blob.wrappedL2) return this.keep(await this.unwrapL2(tenantId, keyLink, blob.l2Id, blob.wrappedL2, () => new BlobAuthenticationError()));
    const registered = tenantKeyById(this.linkNow(tenantId, keyLink.keyLinkId) ?? keyLink, blob.l2Id.toString('hex'));
    if (!registered) throw new TenantKeyUnavailable('tenant-key-unknown');
    return this.openRegistered(tenantId, keyLink, registered);
  }

  /** A registered L2 key, from the cache or unwrapped once however many ask, checked against its fingerprint. */
  private openRegistered(tenantId: string, link: KeyLinkView, registered: TenantKeyView): Promise<L2Key> {
    const l2Id = Buffer.from(registered.l2Id, 'hex');
    const cached = this.deps.cache.get(tenantId, link.keyLinkId, l2Id);
    if (cached) return Promise.resolve(cached);
    const id = `${tenantId}\u0000${link.keyLinkId}\u0000${registered.l2Id}`;
    let pending = this.opening.get(id);
    if (!pending) {
      pending = (async () => {
        const integrity = () => new TenantKeyUnavailable('tenant-key-integrity');
        const l2 = await this.unwrapL2(tenantId, link, l2Id, Buffer.from(registered.wrappedL2, 'base64'), integrity);
        if (l2Fingerprint(l2.key) !== registered.l2Fingerprint) {
          l2.key.fill(0);
          throw integrity();
        }
        return this.keep(l2);
      })().finally(() => this.opening.delete(id));
      this.opening.set(id, pending);
    }
    return pending;
  }

  /** Unwraps an L2 key under L1 into a buffer of our own; `invalid` names what a ciphertext L1 refuses means. */
  private async unwrapL2(tenantId: string, keyLink: KeyLinkView, l2Id: Buffer, wrapped: Buffer, invalid: () => Error): Promise<L2Key> {
    let unwrapped: Buffer;
    try {
      unwrapped = await this.provider(keyLink).unwrap(keyLink.keyReference, wrapped, l1Aad(tenantId, keyLink.keyLinkId, l2Id));
    } catch (error) {
      if (error instanceof InvalidCiphertextError) throw invalid();
      throw error;
    }
    // Our own copy, so zeroising it is not undone by whatever else shares the provider's buffer.
    const key = Buffer.alloc(L2_KEY_BYTES);
    const valid = unwrapped.length === L2_KEY_BYTES;
    if (valid) unwrapped.copy(key);
    unwrapped.fill(0);
    if (!valid) throw invalid();
    return { tenantId, keyLinkId: keyLink.keyLinkId, l2Id: Buffer.from(l2Id), key, zeroised: false };
  }

  /** Caches the key unless the view revoked its link while the provider was working; then zeroises it. */
  private keep(l2: L2Key): L2Key {
    const kept = keyLinkUsable(this.deps.store, l2.tenantId, l2.keyLinkId) ? this.deps.cache.add(l2) : undefined;
    if (kept !== l2) {
      l2.key.fill(0);
      l2.zeroised = true;
    }
    return kept ?? l2;
  }

  private linkNow(tenantId: string, keyLinkId: string): KeyLinkView | undefined {
    return this.deps.store.get(tenantId)?.served?.keyLinks.get(keyLinkId);
  }

  private provider(keyLink: KeyLinkView): KeyProvider {
    const provider = this.deps.providers.get(keyLink.providerKind);
    if (!provider) throw new ProviderNotConfiguredError(keyLink.providerKind);
    return provider;
  }
}
