import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.provider';
import type { AppConfig } from '../config/config';
import { logger } from '../infrastructure/logger';
import { SchedulerLock } from '../key-links/rotation-scheduler/scheduler-lock';
import { ApprovalsService } from './approvals.service';

/**
 * Every CMK_APPROVAL_SWEEP_INTERVAL_MS: expires overdue requests (so their webhook notification goes out
 * without anyone touching them) and runs requests whose quorum was reached before a crash. One instance per
 * round (advisory lock); rounds never overlap; 0 turns it off (touching a request still expires it).
 */
@Injectable()
export class ApprovalSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly approvals: ApprovalsService,
    private readonly lock: SchedulerLock,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.approvals.sweepIntervalMs > 0) this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.lock
        .whileHeld('approval-sweep', () => this.approvals.sweep())
        .then((r) => r && (r.expired || r.ran) && logger.info({ component: 'approvals', ...r }, 'approval sweep'))
        .catch((err: Error) => logger.warn({ component: 'approvals', err: { name: err.name, message: err.message } }, 'approval sweep failed; next round retries'))
        .finally(() => this.schedule());
    }, this.config.approvals.sweepIntervalMs);
    this.timer.unref();
  }
}
