import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, ExitCode } from '../errors';

const PAGE = (text: string) => `<!doctype html><meta charset="utf-8"><title>cmk</title><p>${text}</p>`;

/**
 * The loopback redirect of RFC 8252 §7.3: a one-shot listener on 127.0.0.1 (never a wildcard address, so nothing
 * off the machine can deliver a code) on a port the system picks. Only a callback with the expected `state`
 * is accepted; anything else is answered 400 and ignored, so a stray request cannot end the sign-in.
 */
export class LoopbackReceiver {
  private constructor(
    private readonly server: Server,
    readonly redirectUri: string,
    private readonly result: Promise<URLSearchParams>,
  ) {}

  static async open(expectedState: string): Promise<LoopbackReceiver> {
    let deliver!: (params: URLSearchParams) => void;
    const result = new Promise<URLSearchParams>((resolve) => (deliver = resolve));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method !== 'GET' || url.pathname !== '/callback' || url.searchParams.get('state') !== expectedState) {
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('This is not the sign-in you started.'));
        return;
      }
      const failed = url.searchParams.has('error');
      res
        .writeHead(failed ? 400 : 200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' })
        .end(PAGE(failed ? 'Sign-in was refused. You can close this window.' : 'Signed in to cmk. You can close this window.'));
      deliver(url.searchParams);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    return new LoopbackReceiver(server, `http://127.0.0.1:${port}/callback`, result);
  }

  /** The callback's parameters (`code`, or `error`), or a CliError after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<URLSearchParams> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CliError(`error: no sign-in arrived within ${Math.round(timeoutMs / 1000)} s`, ExitCode.auth)), timeoutMs);
    });
    try {
      return await Promise.race([this.result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
