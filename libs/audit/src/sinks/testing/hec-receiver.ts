import type { IncomingMessage } from 'node:http';
import { HttpReceiver, type Reply } from './http-receiver';

export interface HecEvent {
  time: number;
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: Record<string, unknown> & { position: string };
}

/**
 * A local stand-in for the Splunk HTTP Event Collector (/services/collector/event): checks the documented request
 * format and `Authorization: Splunk <token>`, and answers with HEC's documented replies and codes:
 * 200 {text:'Success',code:0}; 401 code 2/3; 403 code 4; 400 code 5/6 (with invalid-event-number) and 7;
 * 413 over max_content_length; 503 code 9 (server busy). Like Splunk, a request with an invalid event is refused.
 */
export class HecReceiver extends HttpReceiver {
  readonly events: HecEvent[] = [];
  token: string;
  /** Events matching this are refused as "Invalid data format", naming their number in the request. */
  refuse: (event: HecEvent) => boolean = () => false;

  constructor(
    token: string,
    private readonly options: { index?: string; maxContentLength?: number } = {},
  ) {
    super();
    this.token = token;
  }

  protected receive(req: IncomingMessage, body: Buffer): Reply {
    if (req.method !== 'POST' || req.url !== '/services/collector/event') return { status: 404, body: { text: 'The requested URL was not found on this server.', code: 404 } };
    const auth = req.headers.authorization;
    if (!auth) return { status: 401, body: { text: 'Token is required', code: 2 } };
    const m = /^Splunk (.+)$/.exec(auth);
    if (!m) return { status: 401, body: { text: 'Invalid authorization', code: 3 } };
    if (m[1] !== this.token) return { status: 403, body: { text: 'Invalid token', code: 4 } };
    if (this.options.maxContentLength !== undefined && body.length > this.options.maxContentLength) {
      return { status: 413, body: { text: 'Content-Length of the request exceeds max_content_length', code: 413 } };
    }
    const text = body.toString('utf8');
    if (!text.trim()) return { status: 400, body: { text: 'No data', code: 5 } };
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) this.formatError('content-type is not application/json');
    const lines = text.split('\n');
    const parsed: HecEvent[] = [];
    for (let i = 0; i < lines.length; i++) {
      let e: HecEvent;
      try {
        e = JSON.parse(lines[i]) as HecEvent;
      } catch {
        this.formatError(`event ${i} is not one JSON object per line`);
        return { status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': i } };
      }
      const problem = this.check(e);
      if (problem) this.formatError(`event ${i}: ${problem}`);
      if (this.options.index && e.index !== this.options.index) return { status: 400, body: { text: 'Incorrect index', code: 7, 'invalid-event-number': i } };
      if (problem || this.refuse(e)) return { status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': i } };
      parsed.push(e);
    }
    this.events.push(...parsed);
    return { status: 200, body: { text: 'Success', code: 0 } };
  }

  private check(e: HecEvent): string | null {
    if (typeof e !== 'object' || e === null) return 'not an object';
    if (typeof e.time !== 'number' || !/^\d{9,11}(\.\d{1,3})?$/.test(String(e.time))) return `time ${e.time} is not epoch seconds with a ms fraction`;
    for (const k of ['host', 'source', 'sourcetype'] as const) if (typeof e[k] !== 'string' || !e[k]) return `${k} missing`;
    if (typeof e.event !== 'object' || e.event === null) return 'event field is required';
    const occurred = (e.event as { occurredAt?: string }).occurredAt;
    if (occurred && Math.abs(Date.parse(occurred) / 1000 - e.time) > 0.0005) return 'time does not match occurredAt';
    return null;
  }
}
