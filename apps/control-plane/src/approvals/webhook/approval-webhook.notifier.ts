import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { defaultSecretResolver, ResolveSecret } from '@cmk/audit';
import { Categories } from '@cmk/domain';
import { EVENT_STORE, EventStore, Position, RecordedEvent, Subscription } from '@cmk/event-store';
import { APP_CONFIG } from '../../config/config.provider';
import type { AppConfig } from '../../config/config';
import { logger } from '../../infrastructure/logger';
import { approvalNotification } from './approval-notification';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

export const APPROVAL_WEBHOOK_CONSUMER = 'approval-webhook';
const FIRST_BACKOFF_MS = 100;

class Stopped extends Error {}

/** The receiver refused or could not be reached; carries the HTTP status or the network error's code, never the URL's secrets. */
export class WebhookDeliveryError extends Error {
  constructor(readonly reason: string) {
    super(`approval webhook delivery failed: ${reason}`);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * Notifies approvers: every approval event (requested, granted, rejected, expired, executed, failed) is POSTed
 * to CMK_APPROVAL_WEBHOOK_URL, signed (X-CMK-Signature). It reads the event store from its own checkpoint, in
 * order, and moves the checkpoint only after the receiver answered 2xx, so nothing is lost across restarts.
 * A receiver that is down is retried with exponential back-off up to CMK_APPROVAL_WEBHOOK_MAX_BACKOFF_MS, for as
 * long as it takes; commands never wait for it. At-least-once: the payload's `id` lets receivers drop repeats.
 */
@Injectable()
export class ApprovalWebhookNotifier implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription?: Subscription;
  private readonly stop = new AbortController();
  private checkpoint: Position | null = null;
  private restartTimer?: NodeJS.Timeout;
  private readonly resolveSecret: ResolveSecret = defaultSecretResolver();
  /** Delivery attempts that failed since start (for operators and tests). */
  failedAttempts = 0;
  delivered = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.approvals.webhook) await this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.restartTimer);
    await this.subscription?.stop().catch(() => undefined);
  }

  private async subscribe(): Promise<void> {
    if (this.stop.signal.aborted) return;
    this.checkpoint = await this.store.checkpoints.get(APPROVAL_WEBHOOK_CONSUMER);
    const subscription = this.store.subscribeAll((events) => this.deliverAll(events), {
      after: this.checkpoint ?? 0n,
      filter: { categories: [Categories.approval] },
      batchSize: 20,
    });
    this.subscription = subscription;
    subscription.done.catch((err: Error) => {
      if (this.stop.signal.aborted) return;
      logger.warn({ component: 'approval-webhook', err: { name: err.name, message: err.message } }, 'approval webhook subscription stopped; restarting from its checkpoint');
      this.restartTimer = setTimeout(() => void this.subscribe().catch(() => undefined), 1000);
      this.restartTimer.unref();
    });
  }

  private async deliverAll(events: RecordedEvent[]): Promise<void> {
    for (const event of events) {
      const stream = await this.store.readStream(event.streamName, { maxCount: event.revision + 1 });
      const body = JSON.stringify(approvalNotification(event, stream));
      await this.deliverWithRetries(body, event);
      this.delivered++;
      await this.advance(event.position);
    }
  }

  private async deliverWithRetries(body: string, event: RecordedEvent): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stop.signal.aborted) throw new Stopped('stopping');
      try {
        return await this.post(body, event);
      } catch (error) {
        if (this.stop.signal.aborted) throw new Stopped('stopping');
        this.failedAttempts++;
        const backoff = Math.min(this.config.approvals.webhook!.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 30));
        // Jitter keeps several instances (or a restart) from hammering a recovering receiver in step.
        const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
        logger.warn({ component: 'approval-webhook', eventId: event.id, attempt: attempt + 1, retryInMs: delay, reason: (error as Error).message }, 'approval notification not delivered');
        await sleep(delay, this.stop.signal);
      }
    }
  }

  private async post(body: string, event: RecordedEvent): Promise<void> {
    const { url, secretRef, timeoutMs } = this.config.approvals.webhook!;
    const secret = await this.resolveSecret(secretRef);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(secret, body, new Date()), 'X-CMK-Event-Id': event.id },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stop.signal]),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      throw new WebhookDeliveryError(cause?.code ?? (error as Error).name);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new WebhookDeliveryError(`HTTP ${res.status}`);
  }

  private async advance(to: Position): Promise<void> {
    if (await this.store.checkpoints.compareAndSet(APPROVAL_WEBHOOK_CONSUMER, this.checkpoint, to)) {
      this.checkpoint = to;
      return;
    }
    // Another instance notified too and moved on: follow it (receivers drop the repeats by id).
    this.checkpoint = await this.store.checkpoints.get(APPROVAL_WEBHOOK_CONSUMER);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Stopped('stopping'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Stopped('stopping'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
