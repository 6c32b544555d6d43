import { enforcementStream, RevocationDispatched } from '@cmk/domain';
import type { EventStore } from '@cmk/event-store';
import type { MeshLogger } from '@cmk/mesh';
import type { Dispatch } from './bridge-fold';
import type { CheckpointKeeper } from './checkpoint-keeper';
import { BridgeStoppingError, describeError, retryUntilDone } from './retry';

/** The idempotency key of a dispatch record: one per revocation, whoever records it and however often. */
export const dispatchCommandId = (revocationPosition: bigint | string) => `dispatch:${revocationPosition}`;

/**
 * Records RevocationDispatched in `enforcement-<tenantId>` after the revocation was published, off the
 * publishing path: records queue here and are appended one after the other, retried until they land.
 *
 * Never lost: each queued record holds the checkpoint below its revocation (CheckpointKeeper.hold) until it is
 * appended. If the process dies first, the next bridge starts at or below the revocation, publishes it again
 * (workers drop the duplicate by position) and records it again; the command id derived from the revocation's
 * position makes that second append a no-op if the first one had landed after all. So every revocation gets
 * exactly one RevocationDispatched, at some point after its first publish.
 */
export class DispatchRecorder {
  private readonly queue: Dispatch[] = [];
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();

  constructor(
    private readonly store: EventStore,
    private readonly keeper: CheckpointKeeper,
    private readonly logger: MeshLogger,
    private readonly metadata: () => Record<string, unknown>,
    private readonly onRecorded: () => void = () => undefined,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  enqueue(dispatches: readonly Dispatch[]): void {
    for (const d of dispatches) {
      this.keeper.hold(d.position);
      this.queue.push(d);
    }
    if (this.queue.length > 0) this.running ??= this.drain().finally(() => (this.running = null));
  }

  /** Gives queued records `graceMs` to land; what is left is recorded by the next start (see above). */
  async stop(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.stopping.abort(), graceMs);
    try {
      await this.running;
    } finally {
      clearTimeout(timer);
      this.stopping.abort();
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const dispatch = this.queue[0];
      try {
        await retryUntilDone(() => this.append(dispatch), {
          what: 'recording a dispatched revocation',
          signal: this.stopping.signal,
          onError: (error, attempt) => this.logger.warn({ err: describeError(error), attempt, position: String(dispatch.position) }, 'recording RevocationDispatched failed; retrying'),
        });
      } catch (error) {
        if (error instanceof BridgeStoppingError) return;
        throw error;
      }
      this.queue.shift();
      this.onRecorded();
      this.keeper.release(dispatch.position);
    }
  }

  private async append(d: Dispatch): Promise<void> {
    const event: RevocationDispatched = {
      type: 'RevocationDispatched',
      data: {
        tenantId: d.tenantId,
        ...(d.keyLinkId ? { keyLinkId: d.keyLinkId } : {}),
        cause: d.cause,
        revocationPosition: d.position.toString(),
        regions: d.regions,
      },
    };
    const commandId = dispatchCommandId(d.position);
    // 'any': acks of many workers land in the same stream in no particular order; the command id is the guard.
    await this.store.append(enforcementStream(d.tenantId), [{ ...event, metadata: { ...this.metadata(), commandId, causationId: `event-position:${d.position}` } }], {
      expectedRevision: 'any',
      commandId,
    });
  }
}
