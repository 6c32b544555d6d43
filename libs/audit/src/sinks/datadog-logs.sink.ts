import { hostname as osHostname } from 'node:os';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { eventDisplayName, streamCategory, type AuditRecord } from './audit-record';
import { chunkItems, deliverChunks, endpoint, post, type Chunk, type HttpResponse } from './http-delivery';
import type { ResolveSecret, SecretRef } from './secret-ref';
import type { SiemSink } from './siem-sink.port';
import { SinkDeliveryError } from './sink.errors';

const gzip = promisify(gzipCb);

/** Datadog Logs intake limits (uncompressed): 5 MB per payload, 1000 entries per array, 1 MB per entry. */
export const DATADOG_LIMITS = { maxPayloadBytes: 5 * 1024 * 1024, maxEntries: 1000, maxEntryBytes: 1024 * 1024 };

export interface DatadogLogsSinkOptions {
  name: string;
  /** Intake base URL for the Datadog site, e.g. https://http-intake.logs.datadoghq.eu */
  url: string;
  apiKey: SecretRef;
  resolveSecret: ResolveSecret;
  service?: string;
  ddsource?: string;
  /** Extra `key:value` tags. */
  tags?: string[];
  hostname?: string;
  gzip?: boolean;
  timeoutMs?: number;
  /** Lower limits than Datadog's, e.g. behind a proxy with its own. */
  limits?: Partial<typeof DATADOG_LIMITS>;
}

/**
 * Datadog Logs HTTP intake v2. Batches are split to the intake limits before sending; an entry over 1 MB would
 * be truncated by Datadog, which an audit trail must not be, so it is refused here and dead-lettered instead.
 */
export class DatadogLogsSink implements SiemSink {
  readonly name: string;
  private readonly url: URL;
  private readonly limits: typeof DATADOG_LIMITS;

  constructor(private readonly options: DatadogLogsSinkOptions) {
    this.name = options.name;
    this.url = new URL('/api/v2/logs', options.url);
    this.limits = { ...DATADOG_LIMITS, ...options.limits };
  }

  entry(record: AuditRecord): Record<string, unknown> {
    const o = this.options;
    const category = streamCategory(record.streamId);
    const tags = [...(o.tags ?? []), `event_type:${record.type}`, `stream_category:${category}`];
    return {
      ddsource: o.ddsource ?? 'openkcm',
      ddtags: tags.join(','),
      hostname: o.hostname ?? osHostname(),
      service: o.service ?? 'openkcm-cmk',
      message: `${eventDisplayName(record.type)} on ${record.streamId} (position ${record.position})`,
      // Datadog's reserved and standard attributes, so the date, event name and user facets work unconfigured.
      date: record.occurredAt,
      evt: { name: record.type, category },
      usr: record.metadata.actor ? { id: record.metadata.actor.subject } : undefined,
      audit: record,
    };
  }

  async deliver(batch: readonly AuditRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const items = batch.map((r) => Buffer.from(JSON.stringify(this.entry(r)), 'utf8'));
    const chunks = chunkItems(
      items,
      { maxBytes: this.limits.maxPayloadBytes, maxItems: this.limits.maxEntries, maxItemBytes: this.limits.maxEntryBytes },
      '[',
      ',',
      ']',
    );
    const apiKey = await this.apiKey();
    await deliverChunks(chunks, (c) => this.send(c, apiKey), `the Datadog entry limit (${this.limits.maxEntryBytes} bytes)`);
  }

  async close(): Promise<void> {
    // fetch keeps no connection state of ours to release.
  }

  private async apiKey(): Promise<string> {
    try {
      return await this.options.resolveSecret(this.options.apiKey);
    } catch (e) {
      throw new SinkDeliveryError('failing', `Datadog API key ${this.options.apiKey} unavailable: ${(e as Error).message}`);
    }
  }

  private async send(chunk: Chunk, apiKey: string): Promise<void> {
    const headers: Record<string, string> = { 'DD-API-KEY': apiKey, 'Content-Type': 'application/json' };
    let body = chunk.body;
    if (this.options.gzip ?? true) {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    const res = await post(this.url, headers, body, this.options.timeoutMs ?? 30_000);
    if (res.status === 202 || res.status === 200) return;
    throw this.failure(res);
  }

  private failure(res: HttpResponse): SinkDeliveryError {
    const what = `${endpoint(this.url)} answered ${res.status}`;
    const details = { status: res.status, retryAfterMs: res.retryAfterMs };
    if (res.status === 400) return new SinkDeliveryError('rejected', what, details);
    if (res.status === 401 || res.status === 403 || res.status === 404) return new SinkDeliveryError('failing', what, details);
    if (res.status === 413) return new SinkDeliveryError('too-large', what, details);
    if (res.status === 408 || res.status === 429 || res.status >= 500) return new SinkDeliveryError('retryable', what, details);
    return new SinkDeliveryError('failing', what, details);
  }
}
