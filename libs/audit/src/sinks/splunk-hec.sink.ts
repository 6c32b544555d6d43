import { hostname as osHostname } from 'node:os';
import type { AuditRecord } from './audit-record';
import { chunkItems, deliverChunks, endpoint, post, type Chunk, type HttpResponse } from './http-delivery';
import type { ResolveSecret, SecretRef } from './secret-ref';
import type { SiemSink } from './siem-sink.port';
import { SinkDeliveryError } from './sink.errors';

export interface SplunkHecSinkOptions {
  name: string;
  /** Base URL of the collector, e.g. https://splunk.example:8088 (a private CA goes in NODE_EXTRA_CA_CERTS). */
  url: string;
  token: SecretRef;
  resolveSecret: ResolveSecret;
  index?: string;
  source?: string;
  sourcetype?: string;
  host?: string;
  /** HEC's max_content_length; 1 MB is the smallest default across Splunk versions. */
  maxRequestBytes?: number;
  timeoutMs?: number;
}

/** HEC status codes whose 400 means "this configuration is wrong", not "this event is bad". */
const HEC_CONFIG_CODES = new Set([7, 10, 11, 14, 16]);

/**
 * Splunk HTTP Event Collector, `/services/collector/event`, newline-separated JSON events. Splunk reports the
 * first invalid event by number; the runner uses that to dead-letter exactly that record.
 */
export class SplunkHecSink implements SiemSink {
  readonly name: string;
  private readonly url: URL;
  private readonly host: string;

  constructor(private readonly options: SplunkHecSinkOptions) {
    this.name = options.name;
    this.url = new URL('/services/collector/event', options.url);
    this.host = options.host ?? osHostname();
  }

  /** The HEC event of one record. */
  event(record: AuditRecord): Record<string, unknown> {
    const o = this.options;
    const ms = Date.parse(record.occurredAt);
    if (Number.isNaN(ms)) throw new RangeError('occurredAt is not a valid timestamp');
    const event: Record<string, unknown> = {
      // Epoch seconds with a millisecond fraction, as HEC expects.
      time: Number((ms / 1000).toFixed(3)),
      host: this.host,
      source: o.source ?? 'openkcm:cmk',
      sourcetype: o.sourcetype ?? 'openkcm:audit',
      event: record,
    };
    if (o.index) event.index = o.index;
    return event;
  }

  async deliver(batch: readonly AuditRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const limit = this.options.maxRequestBytes ?? 1_000_000;
    const items = batch.map((r, i) => {
      try {
        return Buffer.from(JSON.stringify(this.event(r)), 'utf8');
      } catch (e) {
        throw new SinkDeliveryError('rejected', `record at position ${r.position} cannot be sent: ${(e as Error).message}`, { rejectedIndex: i });
      }
    });
    const chunks = chunkItems(items, { maxBytes: limit, maxItems: Number.MAX_SAFE_INTEGER });
    // Resolved per batch, not at start-up, so a rotated token is used as soon as it is mounted.
    const token = await this.token();
    await deliverChunks(chunks, (c) => this.send(c, token), `the HEC request limit (${limit} bytes)`);
  }

  async close(): Promise<void> {
    // fetch keeps no connection state of ours to release.
  }

  private async token(): Promise<string> {
    try {
      return await this.options.resolveSecret(this.options.token);
    } catch (e) {
      throw new SinkDeliveryError('failing', `HEC token ${this.options.token} unavailable: ${(e as Error).message}`);
    }
  }

  private async send(chunk: Chunk, token: string): Promise<void> {
    const res = await post(
      this.url,
      { Authorization: `Splunk ${token}`, 'Content-Type': 'application/json' },
      chunk.body,
      this.options.timeoutMs ?? 30_000,
    );
    if (res.status === 200) return;
    throw this.failure(res);
  }

  private failure(res: HttpResponse): SinkDeliveryError {
    const reply = parseHecReply(res.body);
    const what = `${endpoint(this.url)} answered ${res.status}${reply.text ? ` (${reply.code}: ${reply.text})` : ''}`;
    const details = { status: res.status, code: reply.code, retryAfterMs: res.retryAfterMs };
    if (res.status === 400) {
      if (reply.code !== undefined && HEC_CONFIG_CODES.has(reply.code)) return new SinkDeliveryError('failing', what, details);
      return new SinkDeliveryError('rejected', what, { ...details, rejectedIndex: reply.invalidEventNumber });
    }
    if (res.status === 401 || res.status === 403 || res.status === 404) return new SinkDeliveryError('failing', what, details);
    if (res.status === 413) return new SinkDeliveryError('too-large', what, details);
    if (res.status === 408 || res.status === 429 || res.status >= 500) return new SinkDeliveryError('retryable', what, details);
    return new SinkDeliveryError('failing', what, details);
  }
}

interface HecReply {
  text?: string;
  code?: number;
  invalidEventNumber?: number;
}

/** `{"text":"Invalid data format","code":6,"invalid-event-number":2}`; only known fields, printable text. */
function parseHecReply(body: string): HecReply {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    return {
      text: typeof j.text === 'string' ? j.text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120) : undefined,
      code: typeof j.code === 'number' ? j.code : undefined,
      invalidEventNumber: Number.isInteger(j['invalid-event-number']) ? (j['invalid-event-number'] as number) : undefined,
    };
  } catch {
    return {};
  }
}
