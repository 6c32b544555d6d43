import { ApprovalEvent, approvalDecider, ApprovalState } from '@cmk/domain';
import type { RecordedEvent } from '@cmk/event-store';
import { approvalView } from '../approval-view';

const TYPES: Record<ApprovalEvent['type'], string> = {
  ApprovalRequested: 'approval.requested',
  ApprovalGranted: 'approval.granted',
  ApprovalRejected: 'approval.rejected',
  ApprovalExpired: 'approval.expired',
  ApprovalExecuted: 'approval.executed',
  ApprovalFailed: 'approval.failed',
};

/**
 * The JSON an approver's receiver gets for one approval event: what happened and the request as it stood right
 * after it. `id` is the event id: delivery is at-least-once, receivers drop an id they have seen.
 */
export function approvalNotification(event: RecordedEvent, streamUpToEvent: RecordedEvent[]) {
  const state = streamUpToEvent.reduce<ApprovalState>((s, e) => approvalDecider.evolve(s, e as unknown as ApprovalEvent), approvalDecider.initialState);
  if (!state.exists) throw new Error(`approval stream ${event.streamName} has no ApprovalRequested`);
  const first = streamUpToEvent[0];
  return {
    id: event.id,
    type: TYPES[event.type as ApprovalEvent['type']] ?? event.type,
    occurredAt: String(event.metadata.occurredAt ?? event.recordedAt.toISOString()),
    position: event.position.toString(),
    approval: { ...approvalView({ ...state, requestedAt: String(first.metadata.occurredAt ?? first.recordedAt.toISOString()) }), href: `/v1/approvals/${state.approvalId}` },
  };
}
