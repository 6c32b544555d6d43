import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CheckpointSigner, MerkleAccumulator, signCheckpointWith } from '@cmk/audit';
import { AUDIT_CHECKPOINT_STREAM, eventMetadata } from '@cmk/domain';
import { ConcurrencyError, EVENT_STORE, EventStore } from '@cmk/event-store';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { logger } from '../../infrastructure/logger';
import { ReadSide } from '../../shared/read-side';
import { AuditLeaves } from './audit-leaves';

export const AUDIT_SIGNER = Symbol('AUDIT_SIGNER');
const SEALER_ACTOR = { subject: 'cmk:audit-sealer', roles: ['platform-operator'] };

/**
 * Seals the audit log: when at least CMK_AUDIT_SEAL_EVERY new events are in the tree, or any new event is older
 * than CMK_AUDIT_SEAL_INTERVAL_MS, it signs the Merkle root over every leaf so far and appends the checkpoint to
 * `auditcheckpoint-log` with the stream's expected revision: several instances may race, one checkpoint per tree
 * size wins, the others find it done. The root is accumulated in memory (O(log n)), reading only new leaves.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly tree = new MerkleAccumulator();
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;
  private lastSealAt = Date.now();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AUDIT_SIGNER) private readonly signer: CheckpointSigner,
    private readonly leaves: AuditLeaves,
    private readonly readSide: ReadSide,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.audit.sealIntervalMs > 0) this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Seals now if there is anything new; resolves with the tree size of the latest checkpoint. */
  sealNow(): Promise<{ treeSize: number; sealed: boolean }> {
    const run = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.seal(true));
    this.running = run;
    return run;
  }

  private async seal(force: boolean): Promise<{ treeSize: number; sealed: boolean }> {
    await this.readSide.caughtUp();
    const last = (await this.store.readStream(AUDIT_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }))[0];
    const sealedSize = last ? Number((last.data as { treeSize: number }).treeSize) : 0;
    const size = await this.leaves.count();
    const fresh = size - sealedSize;
    const due = fresh > 0 && (force || fresh >= this.config.audit.sealEvery || Date.now() - this.lastSealAt >= this.config.audit.sealIntervalMs);
    if (!due) return { treeSize: sealedSize, sealed: false };
    const hashes = await this.leaves.leafHashes(size);
    for (let i = this.tree.size; i < size; i++) this.tree.appendLeafHash(hashes[i]);
    const checkpoint = await signCheckpointWith(this.signer, { treeSize: size, rootHash: this.tree.root().toString('hex'), time: new Date().toISOString() });
    const lastPosition = (await this.leaves.positionOf(size - 1))!;
    const id = randomUUID();
    try {
      await this.store.append(
        AUDIT_CHECKPOINT_STREAM,
        [{ type: 'AuditCheckpointSigned', data: { ...checkpoint, lastPosition }, metadata: eventMetadata({ actor: SEALER_ACTOR, commandId: id, correlationId: id, now: new Date() }) }],
        { expectedRevision: last ? last.revision : 'no_stream', commandId: id },
      );
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      return { treeSize: sealedSize, sealed: false }; // another instance sealed meanwhile
    }
    this.lastSealAt = Date.now();
    logger.info({ treeSize: size, keyId: checkpoint.keyId }, 'audit checkpoint signed');
    return { treeSize: size, sealed: true };
  }

  private schedule(): void {
    if (this.stopped) return;
    // Check often, seal when due: every N events or T milliseconds, whichever comes first.
    this.timer = setTimeout(() => {
      this.running = this.seal(false)
        .catch((error) => logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'audit sealing failed; retrying'))
        .finally(() => this.schedule());
    }, Math.min(this.config.audit.sealIntervalMs, 1_000));
    this.timer.unref();
  }
}
