import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Raw request body bytes as sent (still compressed when the sender compressed). */
  rawBytes: number;
}

/** The plumbing shared by the local HEC and Datadog receivers: a loopback HTTP server with scripted replies. */
export abstract class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Replies to use before the normal handling, one per request, e.g. three 503s then normal service. */
  readonly script: Reply[] = [];
  /** Every request that broke the documented format, with the reason; tests assert it stays empty. */
  readonly formatErrors: string[] = [];
  private server: Server | null = null;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Stops accepting connections (the sink sees connection refused) until start() again on the same port. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  get boundPort(): number {
    return this.port;
  }

  protected abstract receive(req: IncomingMessage, body: Buffer): Promise<Reply> | Reply;

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.requests.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBytes: body.length });
    let reply: Reply;
    try {
      reply = this.script.shift() ?? (await this.receive(req, body));
    } catch (e) {
      reply = { status: 500, body: { error: (e as Error).message } };
    }
    res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  protected formatError(reason: string): void {
    this.formatErrors.push(reason);
  }
}
