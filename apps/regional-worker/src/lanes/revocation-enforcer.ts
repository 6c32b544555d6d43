import type { Logger } from 'pino';
import { AckMessage, encodeMessage, keyLinkUsable, parsePosition, RevocationMessage, TenantViewStore } from '@cmk/orbital';
import type { L2KeyCache } from '../crypto/l2-key-cache';
import type { Outbox } from './outbox';

export interface RevocationEnforcerDeps {
  workerId: string;
  region: string;
  store: TenantViewStore;
  cache: L2KeyCache;
  acks: Outbox;
  log: Logger;
  wallNow?: () => Date;
  onEnforced?(message: RevocationMessage): void;
}

/**
 * The kill switch. In one synchronous step (no request can run in between): the revocation is marked in the
 * view, so every decision from then on denies, and the cached L2 keys it cuts are zeroised. Only then is the
 * ack queued; it is published by the outbox, so enforcement never waits for the broker.
 *
 * A revocation arrives twice around start-up (the bootstrap re-read and the live lane, in either order) and
 * again on redelivery: the view store drops repeats per link and tenant, and each (tenant, position) is acked
 * once per worker process. The set of acked revocations grows with revocations, which are rare.
 */
export class RevocationEnforcer {
  private readonly acked = new Set<string>();

  constructor(private readonly deps: RevocationEnforcerDeps) {}

  /** @throws OrbitalDecodeError for a malformed message (nothing changed then). */
  enforce(message: RevocationMessage): void {
    const { store, cache, log } = this.deps;
    const id = `${message.tenantId}@${parsePosition(message.position)}`;
    const outcome = store.applyRevocation(message);
    if (outcome === 'duplicate' && this.acked.has(id)) return;
    // 'superseded': a newer state already decided about the link (revoked, or restored since): follow it.
    const zeroised =
      outcome !== 'superseded'
        ? cache.zeroise(message.tenantId, message.keyLinkId)
        : cache.retain(message.tenantId, (keyLinkId) => keyLinkUsable(store, message.tenantId, keyLinkId));
    const enforcedAt = (this.deps.wallNow ?? (() => new Date()))().toISOString();
    if (this.acked.has(id)) return;
    this.acked.add(id);
    const ack: AckMessage = {
      kind: 'revocation-enforced',
      workerId: this.deps.workerId,
      region: this.deps.region,
      tenantId: message.tenantId,
      ...(message.keyLinkId !== undefined ? { keyLinkId: message.keyLinkId } : {}),
      cause: message.cause,
      revocationPosition: message.position,
      enforcedAt,
    };
    this.deps.acks.push({ key: this.deps.workerId, value: encodeMessage(ack) });
    this.deps.onEnforced?.(message);
    log.info({ tenantId: message.tenantId, keyLinkId: message.keyLinkId, cause: message.cause, position: message.position, outcome, zeroisedKeys: zeroised, enforcedAt }, 'revocation enforced');
  }
}
