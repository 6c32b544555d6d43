import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { logger } from '../../infrastructure/logger';
import { Aggregates } from '../../shared/aggregates';
import { QUERIES } from '../../shared/read-side';
import type { ReadModelQueries } from '@cmk/read-models';
import { KEY_PROVIDERS, KeyProviderRegistry } from '../providers/key-provider-registry';
import { KeyHealthSync } from './key-health-sync';

const CONCURRENCY = 4;

/**
 * Health sync of every pending and active link whose provider kind is configured here, every
 * CMK_KEY_HEALTH_SYNC_INTERVAL_MS (default 5 minutes; 0 turns it off). Rounds never overlap; a round that fails
 * for one link goes on with the others. Several instances may run it: see KeyHealthSync on why that is safe.
 */
@Injectable()
export class KeyHealthScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(QUERIES) private readonly queries: ReadModelQueries,
    @Inject(KEY_PROVIDERS) private readonly registry: KeyProviderRegistry,
    private readonly aggregates: Aggregates,
    private readonly health: KeyHealthSync,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.keyHealthSyncIntervalMs === 0 || this.registry.kinds.length === 0) return;
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** One round over every link now; resolves with how many links were observed. */
  async runOnce(): Promise<number> {
    const kinds = new Set<string>(this.registry.kinds);
    const links = (await this.queries.linksInScope({ all: true })).filter((l) => kinds.has(l.providerKind));
    let next = 0;
    let observed = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < links.length && !this.stopped) {
          const { keyLinkId } = links[next++];
          try {
            const { state } = await this.aggregates.load(keyLinkStream(keyLinkId), keyLinkDecider);
            if (!state.exists || (state.status !== 'active' && state.status !== 'pending')) continue;
            const outcome = await this.health.sync(state, KeyHealthSync.schedulerContext());
            if (outcome.observation) observed++;
            if (outcome.result.events.length > 0) logger.info({ keyLinkId, condition: outcome.observation?.condition, events: outcome.result.events.map((e) => e.type) }, 'key health changed');
          } catch (error) {
            logger.warn({ keyLinkId, err: { name: (error as Error).name, message: (error as Error).message } }, 'key health sync failed for one link');
          }
        }
      }),
    );
    return observed;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.runOnce()
        .then(() => undefined)
        .catch((error) => logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'key health sync round failed'))
        .finally(() => this.schedule());
    }, this.config.keyHealthSyncIntervalMs);
    this.timer.unref();
  }
}
