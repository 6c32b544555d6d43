import { Categories, parseStreamName, WorkerStatusCommand, workerStatusDecider, WorkerStatusEvent, WorkerStatusState, workerStream } from '@cmk/domain';
import { ConcurrencyError, EventStore } from '@cmk/event-store';
import type { MeshLogger, ReceivedMessage } from '@cmk/mesh';
import { decodeMessage, WorkerStatusMessage } from '@cmk/orbital';
import { InvalidFeedbackError } from './feedback';
import { describeError, retryUntilDone } from './retry';

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= 256;
const isoTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const PAGE = 1_000;

/** Parses and checks a worker's status report: what ends up in the audit log must be well-formed. */
export function parseWorkerStatus(value: Buffer): WorkerStatusMessage {
  const status = decodeMessage(value, 'worker-status');
  const bad = (field: string) => new InvalidFeedbackError(`worker-status field ${field} is missing or malformed`);
  for (const field of ['workerId', 'region'] as const) if (!nonEmpty(status[field])) throw bad(field);
  for (const field of ['startedAt', 'sentAt'] as const) if (!isoTime(status[field])) throw bad(field);
  if (!Number.isInteger(status.intervalMs) || status.intervalMs <= 0) throw bad('intervalMs');
  if (typeof status.ready !== 'boolean') throw bad('ready');
  if (status.stopping !== undefined && typeof status.stopping !== 'boolean') throw bad('stopping');
  if (!Number.isInteger(status.servedTenants) || status.servedTenants < 0) throw bad('servedTenants');
  if (!Array.isArray(status.policies) || status.policies.length > 10_000) throw bad('policies');
  status.policies.forEach((p, i) => {
    if (!p || !nonEmpty(p.policyId) || !Number.isInteger(p.version) || p.version < 1 || !Number.isInteger(p.tenants) || p.tenants < 0) throw bad(`policies[${i}]`);
  });
  return status;
}

interface Watched {
  state: WorkerStatusState;
  revision: number;
  /** Bridge clock (ms) of the last report heard from the worker. */
  lastHeardAt: number;
  silenceBoundMs: number;
}

export interface WorkerStatusRecorderOptions {
  /** A worker is silent after this many of its own report intervals without a report. */
  silentAfterIntervals: number;
  /** ... and never sooner than this (a worker reporting every 100 ms is not silent after 300 ms of GC). */
  minSilenceMs: number;
  now?: () => number;
}

/**
 * Records what each worker enforces (WorkerEnforcementReported), and when it went silent or stopped, in
 * `worker-<workerId>`: changes only (workerStatusDecider), appended at the stream's revision so two bridges never
 * record the same change twice. Work for one worker is serialised; workers proceed independently.
 */
export class WorkerStatusRecorder {
  private readonly watched = new Map<string, Watched>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly now: () => number;

  constructor(
    private readonly store: EventStore,
    private readonly logger: MeshLogger,
    private readonly signal: AbortSignal,
    private readonly metadata: (actor: string, occurredAt: string, commandId: string) => Record<string, unknown>,
    private readonly count: (outcome: 'appended' | 'unchanged' | 'invalid') => void,
    private readonly options: WorkerStatusRecorderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Learns every worker recorded before (a restarted bridge must still notice one that died while it was down):
   * each gets a full silence bound from now before it counts as silent.
   */
  async load(): Promise<void> {
    const states = new Map<string, { state: WorkerStatusState; revision: number }>();
    let after: bigint | undefined;
    for (;;) {
      const page = await this.store.readAll({ after, maxCount: PAGE, filter: { categories: [Categories.worker] } });
      for (const e of page) {
        const { id } = parseStreamName(e.streamName);
        const held = states.get(id) ?? { state: workerStatusDecider.initialState, revision: -1 };
        states.set(id, { state: workerStatusDecider.evolve(held.state, e as unknown as WorkerStatusEvent), revision: e.revision });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1].position;
    }
    const now = this.now();
    for (const [workerId, { state, revision }] of states) {
      if (!this.watched.has(workerId)) this.watched.set(workerId, { state, revision, lastHeardAt: now, silenceBoundMs: this.options.minSilenceMs });
    }
  }

  readonly onStatus = (message: ReceivedMessage): Promise<void> => {
    let status: WorkerStatusMessage;
    try {
      status = parseWorkerStatus(message.value);
    } catch (error) {
      this.logger.warn({ err: describeError(error), topic: message.topic, partition: message.partition, offset: message.offset }, 'dropping a worker-status message that cannot be recorded');
      this.count('invalid');
      return Promise.resolve();
    }
    return this.serialised(status.workerId, async () => {
      const watched = await this.watch(status.workerId);
      watched.lastHeardAt = this.now();
      watched.silenceBoundMs = Math.max(this.options.minSilenceMs, status.intervalMs * this.options.silentAfterIntervals);
      await this.decideAndAppend(status.workerId, watched, {
        kind: 'report',
        workerId: status.workerId,
        region: status.region,
        startedAt: status.startedAt,
        sentAt: status.sentAt,
        ready: status.ready,
        stopping: status.stopping === true,
        policies: status.policies.map(({ policyId, version, tenants }) => ({ policyId, version, tenants })),
        servedTenants: status.servedTenants,
      });
    });
  };

  /** Records WorkerSilent for every worker past its bound. Call it periodically. */
  async checkSilence(): Promise<void> {
    const now = this.now();
    await Promise.all(
      [...this.watched.entries()].map(([workerId, watched]) =>
        this.serialised(workerId, () => this.decideAndAppend(workerId, watched, { kind: 'check-silence', lastHeardAt: watched.lastHeardAt, now, boundMs: watched.silenceBoundMs })),
      ),
    );
  }

  private async watch(workerId: string): Promise<Watched> {
    let watched = this.watched.get(workerId);
    if (!watched) {
      const { state, revision } = await this.readStream(workerId);
      watched = { state, revision, lastHeardAt: this.now(), silenceBoundMs: this.options.minSilenceMs };
      this.watched.set(workerId, watched);
    }
    return watched;
  }

  private async readStream(workerId: string): Promise<{ state: WorkerStatusState; revision: number }> {
    const events = await this.store.readStream(workerStream(workerId));
    let state = workerStatusDecider.initialState;
    for (const e of events) state = workerStatusDecider.evolve(state, e as unknown as WorkerStatusEvent);
    return { state, revision: events.length > 0 ? events[events.length - 1].revision : -1 };
  }

  private async decideAndAppend(workerId: string, watched: Watched, command: WorkerStatusCommand): Promise<void> {
    await retryUntilDone(
      async () => {
        const events = workerStatusDecider.decide(command, watched.state);
        if (events.length === 0) {
          this.count('unchanged');
          return;
        }
        const occurredAt = new Date(this.now()).toISOString();
        const commandId = `worker-status:${workerId}:${watched.revision + 1}`;
        try {
          const result = await this.store.append(
            workerStream(workerId),
            events.map((e) => ({ ...e, metadata: this.metadata(`worker:${workerId}`, occurredAt, commandId) })),
            { expectedRevision: watched.revision < 0 ? 'no_stream' : watched.revision },
          );
          for (const e of events) watched.state = workerStatusDecider.evolve(watched.state, e);
          watched.revision = result.nextExpectedRevision;
          this.count('appended');
        } catch (error) {
          if (!(error instanceof ConcurrencyError)) throw error;
          // Another bridge recorded first: decide again on what it recorded.
          Object.assign(watched, await this.readStream(workerId));
          throw error;
        }
      },
      {
        what: 'recording a worker status',
        signal: this.signal,
        onError: (error, attempt) => this.logger.warn({ err: describeError(error), attempt, workerId }, 'recording a worker status failed; retrying'),
      },
    );
  }

  private serialised(workerId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.queues.get(workerId) ?? Promise.resolve()).then(work, work);
    const settled = next.catch(() => undefined);
    this.queues.set(workerId, settled);
    void settled.then(() => {
      if (this.queues.get(workerId) === settled) this.queues.delete(workerId);
    });
    return next;
  }
}
