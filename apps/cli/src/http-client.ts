import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CliError, describeProblem, exitCodeForStatus, ExitCode } from './errors';
import { storedAccessToken } from './auth/stored-token';
import { credentialsPath, TokenStore } from './auth/token-store';

export interface ClientOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
}

export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
}

/**
 * Talks to the control plane: bearer token, Idempotency-Key on every write, one retry when the connection is refused.
 * The token is --token, CMK_TOKEN, the token file, or else the one `cmk login` stored (refreshed when expired).
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly explicitToken?: string;
  private token?: Promise<string | undefined>;

  constructor(opts: ClientOptions, private readonly io: CliIo) {
    this.baseUrl = (opts.url ?? io.env.CMK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    const tokenFile = opts.tokenFile ?? io.env.CMK_TOKEN_FILE;
    this.explicitToken = opts.token ?? io.env.CMK_TOKEN ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  }

  private bearer(): Promise<string | undefined> {
    this.token ??= this.explicitToken !== undefined ? Promise.resolve(this.explicitToken) : storedAccessToken(new TokenStore(credentialsPath(this.io.env)), this.io.fetch);
    return this.token;
  }

  get<T = any>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return this.request('GET', qs ? `${path}?${qs}` : path);
  }

  send<T = any>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return this.request(method, path, body, randomUUID());
  }

  private async request<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await this.bearer();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let res: Response | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.io.fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        break;
      } catch (e) {
        // The same Idempotency-Key makes the retry of a write safe.
        if (attempt === 0) {
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
        throw new CliError(`error: cannot reach ${this.baseUrl} (${cause})`, ExitCode.unavailable);
      }
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) throw new CliError(describeProblem(res.status, parsed), exitCodeForStatus(res.status));
    return parsed as T;
  }
}
