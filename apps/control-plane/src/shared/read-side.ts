import { Inject, Injectable } from '@nestjs/common';
import type { ProjectionRunner, ReadModelQueries } from '@cmk/read-models';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import { ProblemError } from '../http/problem';
import { APP_CONFIG } from '../config/config.provider';
import type { AppConfig } from '../config/config';

export const PROJECTIONS = Symbol('PROJECTIONS');
export const QUERIES = Symbol('QUERIES');

/** Read-your-writes: queries wait (bounded) for the projections to reach a position. */
@Injectable()
export class ReadSide {
  constructor(
    @Inject(PROJECTIONS) readonly projections: ProjectionRunner,
    @Inject(QUERIES) readonly queries: ReadModelQueries,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async atLeast(minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    if (!/^\d{1,19}$/.test(minPosition))
      throw new ProblemError(400, 'validation-error', 'Request validation failed', 'minPosition must be a non-negative integer', {
        errors: [{ field: 'minPosition', message: 'must be a non-negative integer' }],
      });
    await this.waitFor(BigInt(minPosition));
  }

  /**
   * For decisions that need every committed event reflected (offboarding checks a tenant's links, admission of
   * policy changes, the kill switch's scope, the compliance report). Returns the head it waited for.
   */
  async caughtUp(): Promise<bigint> {
    const head = await this.store.headPosition();
    await this.waitFor(head);
    return head;
  }

  private async waitFor(position: bigint): Promise<void> {
    const reached = await this.projections.waitForPosition(position, this.config.readWaitMs);
    if (!reached)
      throw new ProblemError(503, 'read-model-behind', 'Read model has not caught up', `the read models have not reached position ${position} yet; retry shortly`, {}, { 'Retry-After': '1' });
  }
}
