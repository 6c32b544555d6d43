import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { KeyProviderError, UnsupportedOperationError } from '@cmk/key-providers';
import { PolicyInForce, rotationStatus, tenantKeyRotationStatus, type TenantKeyRotationStatus } from '@cmk/policy';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { logger } from '../../infrastructure/logger';
import { Aggregates, ExecutionContext } from '../../shared/aggregates';
import { ReadSide } from '../../shared/read-side';
import { KEY_PROVIDERS, KeyProviderRegistry, ProviderNotConfiguredError } from '../providers/key-provider-registry';
import { ROTATION_ACTOR } from './rotation-actor';
import { SchedulerLock } from './scheduler-lock';
import { rotateDueTenantKeys, type TenantKeyRound } from './tenant-key-rotation';

export { ROTATION_ACTOR };

export interface RotationRound {
  /** False when another instance held the lock: this one did nothing. */
  acted: boolean;
  overdue: number;
  rotated: string[];
  /** Overdue keys a person must rotate (the provider cannot, or no provider here reaches it). */
  due: string[];
  /** Provider errors; the rotation stays started and is resumed next round. */
  failed: { keyLinkId: string; code: string }[];
  /** Tenant keys (L2) past the strictest `rotation.tenantKeyMaxAgeDays` in force, and what became of them. */
  tenantKeys: TenantKeyRound;
}

const idleRound = (): RotationRound => ({ acted: false, overdue: 0, rotated: [], due: [], failed: [], tenantKeys: { overdue: 0, rotated: [], alreadyRotated: [], failed: [] } });

/**
 * Rotates active keys past the strictest `rotation.maxAgeDays` in force, where the provider can (L1); otherwise
 * records KeyRotationDue, a compliance finding. Tenant keys (L2) past `rotation.tenantKeyMaxAgeDays` always
 * rotate (a request on the link; the workers make the key), once per due version. Every CMK_ROTATION_INTERVAL_MS (default 1 hour; 0: only on
 * demand). Exactly one instance acts per round (an advisory lock in PostgreSQL). Crash-safe without double
 * rotation: KeyRotationStarted is recorded BEFORE the provider is asked, with the version it starts from; a
 * round that finds a rotation started but not completed first asks the provider which version is current, and
 * records the rotation as done if the version moved, instead of rotating again.
 */
@Injectable()
export class KeyRotationScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(KEY_PROVIDERS) private readonly registry: KeyProviderRegistry,
    private readonly aggregates: Aggregates,
    private readonly readSide: ReadSide,
    private readonly lock: SchedulerLock,
    private readonly commands: CommandBus,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.rotationIntervalMs > 0) this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One round now (also the on-demand endpoint). Rounds of this instance never overlap. */
  async runOnce(now = new Date()): Promise<RotationRound> {
    const previous = this.running ?? Promise.resolve();
    const round = previous.catch(() => undefined).then(() => this.lock.whileHeld('rotation-scheduler', () => this.round(now)));
    this.running = round;
    const result = await round;
    return result ?? idleRound();
  }

  private async round(now: Date): Promise<RotationRound> {
    await this.readSide.caughtUp();
    const links = (await this.readSide.queries.linkAges()).filter((l) => l.status === 'active');
    const tenantKeys = await this.readSide.queries.tenantKeyAges();
    const policies = await this.readSide.queries.policiesInForceByTenant([...new Set([...links, ...tenantKeys].map((l) => l.tenantId))]);
    const result: RotationRound = { ...idleRound(), acted: true };
    for (const link of links) {
      if (this.stopped) break;
      const status = rotationStatus((policies.get(link.tenantId) ?? []) as PolicyInForce[], link, now);
      if (status?.state !== 'overdue') continue;
      result.overdue++;
      const policy = { policyId: status.policyId, version: status.policyVersion };
      try {
        const outcome = await this.rotate(link.keyLinkId, link.keySince, status.maxAgeDays, policy);
        if (outcome === 'rotated') result.rotated.push(link.keyLinkId);
        if (outcome === 'due') result.due.push(link.keyLinkId);
      } catch (error) {
        const code = error instanceof KeyProviderError ? error.code : (error as Error).name;
        result.failed.push({ keyLinkId: link.keyLinkId, code });
        logger.warn({ keyLinkId: link.keyLinkId, code }, 'scheduled key rotation failed; it resumes next round');
      }
    }
    const dueL2 = tenantKeys
      .map((l) => tenantKeyRotationStatus((policies.get(l.tenantId) ?? []) as PolicyInForce[], l, now))
      .filter((s): s is TenantKeyRotationStatus => s?.state === 'overdue');
    result.tenantKeys = await rotateDueTenantKeys(this.commands, dueL2, { id: randomUUID(), now, stopped: () => this.stopped });
    if (result.overdue > 0 || result.tenantKeys.overdue > 0)
      logger.info(
        { overdue: result.overdue, rotated: result.rotated.length, due: result.due.length, failed: result.failed.length, tenantKeysOverdue: result.tenantKeys.overdue, tenantKeysRotated: result.tenantKeys.rotated.length, tenantKeysFailed: result.tenantKeys.failed.length },
        'key rotation round',
      );
    return result;
  }

  private async rotate(keyLinkId: string, keySince: string, maxAgeDays: number, policy: { policyId: string; version: number }): Promise<'rotated' | 'due' | 'skipped'> {
    const stream = keyLinkStream(keyLinkId);
    const { state } = await this.aggregates.load(stream, keyLinkDecider);
    if (!state.exists || state.status !== 'active') return 'skipped';
    // Already found to need a person (the provider cannot rotate it): nothing more to try until it is rotated.
    if (state.rotationDueFor === keySince) return 'due';
    let provider;
    try {
      provider = await this.registry.forLink(state);
    } catch (error) {
      if (!(error instanceof ProviderNotConfiguredError)) throw error;
      await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordRotationDue', keyLinkId, keySince, maxAgeDays, why: 'provider-not-configured', policy }, this.ctx());
      return 'due';
    }
    if (state.rotationInProgress) {
      // Resume: did the provider rotate before we could record it?
      const now = await provider.describeKey(state.keyReference);
      if (now.version && now.version !== state.rotationInProgress.previousVersion) {
        await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordKeyRotation', keyLinkId, fingerprint: now.fingerprint, keyVersion: now.version }, this.ctx());
        return 'rotated';
      }
    } else {
      await this.aggregates.execute(stream, keyLinkDecider, { type: 'StartKeyRotation', keyLinkId, maxAgeDays, policy }, this.ctx());
    }
    try {
      const rotated = await provider.rotateKey(state.keyReference);
      await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordKeyRotation', keyLinkId, fingerprint: rotated.fingerprint, keyVersion: rotated.version ?? rotated.fingerprint }, this.ctx());
      return 'rotated';
    } catch (error) {
      if (!(error instanceof UnsupportedOperationError)) throw error;
      await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordRotationDue', keyLinkId, keySince, maxAgeDays, why: 'provider-cannot-rotate', policy }, this.ctx());
      return 'due';
    }
  }

  private ctx(): ExecutionContext {
    const id = randomUUID();
    return { actor: ROTATION_ACTOR, commandId: id, correlationId: id, now: new Date() };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce()
        .catch((error) => logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'key rotation round failed'))
        .finally(() => this.schedule());
    }, this.config.rotationIntervalMs);
    this.timer.unref();
  }
}
