import { ApprovalClock } from './approval-clock';
import { ApprovalGate } from './approval-gate';
import { ApprovalSweeper } from './approval-sweeper';
import { ApprovalsIndex } from './approvals-index';
import { ApprovalsService } from './approvals.service';
import { ApprovalWebhookNotifier } from './webhook/approval-webhook.notifier';

/** Four-eyes approvals: the gate handlers call, the service behind /v1/approvals, the sweep and the notifier. */
export const ApprovalProviders = [ApprovalClock, ApprovalGate, ApprovalsIndex, ApprovalsService, ApprovalSweeper, ApprovalWebhookNotifier];
