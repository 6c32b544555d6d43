import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';

export const DB_POOL = Symbol('DB_POOL');

/**
 * Only one control-plane instance runs a scheduler round: a PostgreSQL session advisory lock, tried (never
 * waited for) and held on its own connection for the round. Embedded mode is one instance by construction (the
 * data directory is locked), and its single-connection pool cannot spare one, so no lock is taken there.
 */
@Injectable()
export class SchedulerLock {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_POOL) private readonly pool: Pool,
  ) {}

  /** Runs `work` if this instance got the lock; `undefined` when another instance holds it. */
  async whileHeld<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
    if (this.config.mode === 'embedded') return work();
    const client = await this.pool.connect();
    try {
      const key = `cmk:${this.config.readModelSchema}:${name}`;
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      if (!rows[0].locked) return undefined;
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    } finally {
      client.release();
    }
  }
}
