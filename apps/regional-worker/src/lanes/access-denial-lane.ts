import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import type { Mesh, MeshMessage } from '@cmk/mesh';
import { decodeMessage, encodeMessage } from '@cmk/orbital';
import { DenialInput, DenialRecorder } from './denial-recorder';
import { Outbox } from './outbox';

export interface AccessDenialLaneOptions {
  workerId: string;
  region: string;
  mesh: Mesh;
  topic: string;
  log: Logger;
  /** The worker's registry: the lane's counters appear beside the others on /metrics. */
  registry: Registry;
  detailLimit: number;
  /**
   * Reports held while the mesh refuses them. Each holds at most 500 records, and a quiet worker sends one per
   * window, so the default of 1 000 rides out many hours of broker outage; only beyond it the oldest report is
   * dropped, and what it held is counted (cmk_worker_access_denials_lost_total) and logged.
   */
  capacity?: number;
}

/**
 * The worker's access-decision lane: denials are recorded in memory on the request path (DenialRecorder) and
 * published per window from here, through an outbox that retries until the mesh acknowledges, so a broker
 * outage delays reports but does not lose them.
 */
export class AccessDenialLane {
  private readonly recorder: DenialRecorder;
  private readonly outbox: Outbox;
  private readonly suppressed: Counter;
  private readonly lost: Counter;
  private suppressedSeen = 0;

  constructor(private readonly options: AccessDenialLaneOptions) {
    const registers = [options.registry];
    const published = new Counter({ name: 'cmk_worker_access_denial_reports_published_total', help: 'Access-denial reports the mesh acknowledged', registers });
    this.suppressed = new Counter({ name: 'cmk_worker_access_denials_suppressed_total', help: 'Denials beyond the detail limit, reported only as counts', registers });
    this.lost = new Counter({ name: 'cmk_worker_access_denials_lost_total', help: 'Denials dropped unreported because the outbox was full', registers });
    this.recorder = new DenialRecorder({ workerId: options.workerId, region: options.region, detailLimit: options.detailLimit });
    this.outbox = new Outbox(options.mesh, options.topic, options.log, { capacity: options.capacity ?? 1_000, onDropped: (m) => this.onDropped(m) }, (n) => published.inc(n));
  }

  get pending(): number {
    return this.outbox.pending;
  }

  /** On the request path: memory only. */
  record(denial: DenialInput): void {
    this.recorder.record(denial);
  }

  /** Closes the window and hands its reports to the outbox. */
  flush(): void {
    for (const report of this.recorder.cut()) this.outbox.push({ key: this.options.workerId, value: encodeMessage(report) });
    const suppressed = this.recorder.suppressedTotal;
    this.suppressed.inc(suppressed - this.suppressedSeen);
    this.suppressedSeen = suppressed;
  }

  /** Flushes the open window, then waits (bounded) for the outbox to drain. */
  async close(timeoutMs: number): Promise<void> {
    this.flush();
    await this.outbox.close(timeoutMs);
  }

  private onDropped(message: MeshMessage): void {
    const report = decodeMessage(message.value, 'access-denials');
    const denials = report.denials.length + report.suppressed.reduce((n, s) => n + s.count, 0);
    this.lost.inc(denials);
    this.options.log.error({ reportId: report.reportId, windowStart: report.windowStart, denials }, 'access-denial outbox full: a report was dropped unpublished');
  }
}
