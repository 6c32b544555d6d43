import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { HttpReceiver, type Reply } from './http-receiver';

export interface DatadogEntry {
  ddsource: string;
  ddtags: string;
  hostname: string;
  service: string;
  message: string;
  audit: Record<string, unknown> & { position: string };
  [k: string]: unknown;
}

/**
 * A local stand-in for the Datadog Logs HTTP intake v2 (POST /api/v2/logs): checks `DD-API-KEY`, optional gzip,
 * a JSON array of entries with ddsource/ddtags/hostname/service/message, and the documented limits (5 MB
 * uncompressed payload, 1000 entries, 1 MB per entry; lower limits can be set to exercise splitting). Replies
 * 202 {}; 400 for a malformed or refused payload (the whole request); 403 for a wrong key; 413 over the limit.
 */
export class DatadogReceiver extends HttpReceiver {
  readonly entries: DatadogEntry[] = [];
  apiKey: string;
  refuse: (entry: DatadogEntry) => boolean = () => false;
  readonly payloadSizes: number[] = [];
  readonly arrayLengths: number[] = [];

  constructor(
    apiKey: string,
    readonly limits = { maxPayloadBytes: 5 * 1024 * 1024, maxEntries: 1000, maxEntryBytes: 1024 * 1024 },
  ) {
    super();
    this.apiKey = apiKey;
  }

  protected receive(req: IncomingMessage, raw: Buffer): Reply {
    if (req.method !== 'POST' || req.url !== '/api/v2/logs') return { status: 404, body: { errors: ['Not found'] } };
    if (req.headers['dd-api-key'] !== this.apiKey) return { status: 403, body: { errors: ['Forbidden'] } };
    let body = raw;
    if (req.headers['content-encoding'] === 'gzip') {
      try {
        body = gunzipSync(raw);
      } catch {
        this.formatError('content-encoding gzip but body is not gzip');
        return { status: 400, body: { errors: ['Bad Request'] } };
      }
    } else if (req.headers['content-encoding']) {
      this.formatError(`unexpected content-encoding ${req.headers['content-encoding']}`);
    }
    if (body.length > this.limits.maxPayloadBytes) return { status: 413, body: { errors: ['Payload too large'] } };
    let entries: DatadogEntry[];
    try {
      entries = JSON.parse(body.toString('utf8')) as DatadogEntry[];
    } catch {
      this.formatError('body is not JSON');
      return { status: 400, body: { errors: ['Bad Request'] } };
    }
    if (!Array.isArray(entries)) this.formatError('body is not a JSON array');
    if (entries.length > this.limits.maxEntries) this.formatError(`array of ${entries.length} entries exceeds ${this.limits.maxEntries}`);
    this.payloadSizes.push(body.length);
    this.arrayLengths.push(entries.length);
    for (const [i, e] of entries.entries()) {
      if (Buffer.byteLength(JSON.stringify(e)) > this.limits.maxEntryBytes) this.formatError(`entry ${i} exceeds ${this.limits.maxEntryBytes} bytes`);
      for (const k of ['ddsource', 'ddtags', 'hostname', 'service', 'message'] as const) {
        if (typeof e[k] !== 'string' || !e[k]) this.formatError(`entry ${i}: ${k} missing`);
      }
      if (this.refuse(e)) return { status: 400, body: { errors: ['Bad Request'] } };
    }
    this.entries.push(...entries);
    return { status: 202, body: {} };
  }
}
