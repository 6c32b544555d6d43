import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { createSinkRunners, SinkRunner, SinkStatus } from '@cmk/audit';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { logger } from '../../infrastructure/logger';
import { DB_POOL } from '../../key-links/rotation-scheduler/scheduler-lock';
import { EventStoreAuditSource, PostgresSinkStores } from './siem-stores';

/**
 * Exports the audit log to the SIEMs in CMK_SIEM_SINKS: one runner per sink with its own checkpoint, so a sink
 * that is down delays only its own export and never a command or another sink. At-least-once: a checkpoint moves
 * only after the sink accepted the records (or a refused one is in siem_dead_letters).
 */
@Injectable()
export class SiemExport implements OnApplicationBootstrap, OnApplicationShutdown {
  private runners: SinkRunner[] = [];
  private stores?: PostgresSinkStores;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DB_POOL) private readonly pool: Pool,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.siemSinks.length === 0) return;
    this.stores = new PostgresSinkStores(this.pool, this.config.readModelSchema);
    await this.stores.migrate();
    const sinkLogger = {
      info: (fields: Record<string, unknown>, msg: string) => logger.info({ component: 'siem', ...fields }, msg),
      warn: (fields: Record<string, unknown>, msg: string) => logger.warn({ component: 'siem', ...fields }, msg),
      error: (fields: Record<string, unknown>, msg: string) => logger.error({ component: 'siem', ...fields }, msg),
    };
    this.runners = createSinkRunners(
      this.config.siemSinks,
      { source: new EventStoreAuditSource(this.store), checkpoints: this.stores, deadLetters: this.stores },
      { productVersion: process.env.npm_package_version ?? '0.1.0', hostname: hostname(), logger: sinkLogger },
    );
    for (const runner of this.runners) runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  status(): SinkStatus[] {
    return this.runners.map((r) => r.status());
  }

  deadLetters() {
    return this.stores ? this.stores.deadLetters() : Promise.resolve([]);
  }
}
