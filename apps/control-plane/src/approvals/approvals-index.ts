import { Inject, Injectable } from '@nestjs/common';
import { ApprovalEvent, ApprovalState, approvalDecider, Categories, parseStreamName } from '@cmk/domain';
import { EVENT_STORE, EventStore } from '@cmk/event-store';

export type KnownApproval = Extract<ApprovalState, { exists: true }> & { requestedAt: string; correlationId?: string };

const PAGE = 500;

/**
 * Every approval request, folded straight from the event store (category `approval`) and brought up to date
 * before each use by reading only the events after the last one seen. Requests are few and small, so an
 * in-memory fold is enough; it never lags a write this instance or another one made before the read.
 */
@Injectable()
export class ApprovalsIndex {
  private readonly approvals = new Map<string, KnownApproval>();
  private after = 0n;
  private catchingUp?: Promise<void>;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async all(): Promise<KnownApproval[]> {
    await this.catchUp();
    return [...this.approvals.values()];
  }

  /** Concurrent callers share one read, so the position only moves forward. */
  private catchUp(): Promise<void> {
    this.catchingUp ??= this.readNew().finally(() => (this.catchingUp = undefined));
    return this.catchingUp;
  }

  private async readNew(): Promise<void> {
    for (;;) {
      const events = await this.store.readAll({ after: this.after, maxCount: PAGE, filter: { categories: [Categories.approval] } });
      for (const e of events) {
        const { id } = parseStreamName(e.streamName);
        const before = this.approvals.get(id);
        const next = approvalDecider.evolve(before ?? approvalDecider.initialState, e as unknown as ApprovalEvent);
        if (next.exists)
          this.approvals.set(id, { ...next, requestedAt: before?.requestedAt ?? String(e.metadata.occurredAt ?? e.recordedAt.toISOString()), correlationId: before?.correlationId ?? e.metadata.correlationId });
        this.after = e.position;
      }
      if (events.length < PAGE) return;
    }
  }
}
