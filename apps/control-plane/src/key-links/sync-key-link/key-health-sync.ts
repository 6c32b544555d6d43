import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { KeyObservation, keyLinkDecider, keyLinkStream } from '@cmk/domain';
import { ConcurrencyError } from '@cmk/event-store';
import { keyProblemActionOf } from '@cmk/policy';
import { Aggregates, CommandResult, ExecutionContext } from '../../shared/aggregates';
import { Facts } from '../../shared/facts';
import { LinkedKeys, LinkState } from '../providers/linked-keys';
import { observeKey } from '../providers/key-observer';

export interface SyncOutcome {
  keyLinkId: string;
  /** Absent when there was nothing to observe (a BYOK key still waiting for its material). */
  observation?: KeyObservation;
  result: CommandResult;
}

/** Who acts when the scheduler syncs: recorded as the actor of the events it appends. */
export const HEALTH_SYNC_ACTOR = { subject: 'cmk:key-health-sync', roles: ['platform-operator'] };

/**
 * One health sync of one link: observe the key at its provider, then record what changed (degraded, healthy
 * again, a new version, and a revocation where policy says `hyokHealth.onProblem: revoke`). Used by the
 * on-demand endpoint and by the scheduler. Safe on several instances at once: the append carries the revision
 * the observation was judged against, and events are recorded only on change, so a concurrent sync that got
 * there first turns this one into a no-op.
 */
@Injectable()
export class KeyHealthSync {
  constructor(private readonly aggregates: Aggregates, private readonly facts: Facts, private readonly links: LinkedKeys) {}

  async sync(link: LinkState, ctx: ExecutionContext): Promise<SyncOutcome> {
    const observation = await observeKey(await this.links.provider(link), link);
    const stream = keyLinkStream(link.keyLinkId);
    if (!observation) return { keyLinkId: link.keyLinkId, result: { streamName: stream, revision: -1, position: '0', events: [] } };
    const { onProblem, policy } = keyProblemActionOf(await this.facts.policiesInForce(link.tenantId));
    try {
      const result = await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordKeyHealth', keyLinkId: link.keyLinkId, observation, onProblem, policy }, ctx);
      return { keyLinkId: link.keyLinkId, observation, result };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      const again = await this.aggregates.execute(stream, keyLinkDecider, { type: 'RecordKeyHealth', keyLinkId: link.keyLinkId, observation, onProblem, policy }, ctx);
      return { keyLinkId: link.keyLinkId, observation, result: again };
    }
  }

  /** A context for the scheduler's own appends. */
  static schedulerContext(): ExecutionContext {
    const id = randomUUID();
    return { actor: HEALTH_SYNC_ACTOR, commandId: id, correlationId: id, now: new Date() };
  }
}
