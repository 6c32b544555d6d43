import { ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

const SERVER = join(__dirname, 'oidc-provider-server.mjs');
const REDIRECT_URI = 'https://console.cmk.test/callback';
const CONSOLE_CLIENT = 'cmk-console';
/** Registered without a port: RFC 8252 §7.3 lets a native client's loopback redirect use any port. */
const NATIVE_REDIRECT_URI = 'http://127.0.0.1/callback';
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const START_TIMEOUT_MS = 20_000;

export interface OidcTestProviderOptions {
  alg?: 'ES256' | 'RS256';
  /** Resource indicators (RFC 8707) the provider issues JWT access tokens for; each becomes the tokens' `aud`. */
  resources: Record<string, { scope: string; ttlSeconds?: number }>;
  /** Used when a request names no resource. */
  defaultResource: string;
  /** People, by login; their claims are added to their access tokens (any JSON, nested objects too). */
  users: Record<string, { claims: Record<string, unknown> }>;
  /**
   * Clients allowed the client_credentials grant, by client id; claims are added to their access tokens.
   * `accessTokenTtlSeconds` overrides the resource's lifetime for this client's tokens (e.g. to see one expire).
   */
  workloads: Record<string, { claims: Record<string, unknown>; accessTokenTtlSeconds?: number }>;
  /**
   * Public native clients (RFC 8252: no secret, PKCE, loopback redirect on any port) such as a command line, by
   * client id. They may use authorization code, refresh tokens and the device authorization grant (RFC 8628),
   * which is enabled only when at least one is configured.
   */
  nativeClients?: string[];
}

export interface OidcProviderStats {
  /** GET /jwks requests served so far (also while in outage). */
  jwks: number;
  discovery: number;
  signingKid: string;
  publishedKids: string[];
}

/**
 * A real oidc-provider 9 in a child process (it is ESM only; Jest runs CommonJS). Passwords and client secrets
 * are generated per run and stay in this object. `stop()` in afterAll; the child also exits when Jest goes away.
 */
export class OidcTestProvider {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
    private readonly options: OidcTestProviderOptions,
    private readonly secrets: { passwords: Record<string, string>; clients: Record<string, string> },
  ) {
    child.on('message', (message: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`oidc test provider: ${message.error}`));
    });
    child.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('oidc test provider exited'));
      this.pending.clear();
    });
  }

  static async start(options: OidcTestProviderOptions): Promise<OidcTestProvider> {
    const passwords = Object.fromEntries(Object.keys(options.users).map((u) => [u, randomBytes(18).toString('base64url')]));
    const clients = Object.fromEntries([CONSOLE_CLIENT, ...Object.keys(options.workloads)].map((c) => [c, randomBytes(24).toString('base64url')]));
    const config = {
      alg: options.alg ?? 'ES256',
      resources: options.resources,
      defaultResource: options.defaultResource,
      users: Object.fromEntries(Object.entries(options.users).map(([login, u]) => [login, { password: passwords[login], claims: u.claims }])),
      clients: [
        { client_id: CONSOLE_CLIENT, client_secret: clients[CONSOLE_CLIENT], redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code'], response_types: ['code'] },
        ...Object.entries(options.workloads).map(([id, w]) => ({
          client_id: id,
          client_secret: clients[id],
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          claims: w.claims,
          ...(w.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: w.accessTokenTtlSeconds } : {}),
        })),
        ...(options.nativeClients ?? []).map((id) => ({
          client_id: id,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          redirect_uris: [NATIVE_REDIRECT_URI],
          grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
          response_types: ['code'],
        })),
      ],
    };
    const child = fork(SERVER, [], {
      execArgv: [],
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', OIDC_TEST_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`oidc-provider did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
      }, START_TIMEOUT_MS);
      child.once('message', (m: { type?: string; issuer?: string }) => {
        clearTimeout(timer);
        if (m.type === 'ready' && m.issuer) resolve(m.issuer);
        else reject(new Error('oidc-provider sent an unexpected first message'));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`oidc-provider exited with ${code} before it was ready: ${stderr}`));
      });
    });
    return new OidcTestProvider(child, issuer, options, { passwords, clients });
  }

  /** A new signing key; the old ones stay published unless `retireOld`. */
  rotateKeys(opts: { retireOld?: boolean } = {}): Promise<{ signingKid: string; publishedKids: string[] }> {
    return this.command('rotate', { retireOld: opts.retireOld ?? false });
  }

  /** While down, discovery and JWKS answer 503 (the rest of the provider keeps working). */
  setOutage(down: boolean): Promise<void> {
    return this.command('outage', { down }).then(() => undefined);
  }

  stats(): Promise<OidcProviderStats> {
    return this.command('stats', {});
  }

  /** The published key set, read without a /jwks request (so fetch counts stay the verifier's own). */
  publicJwks(): Promise<{ keys: Array<Record<string, string>> }> {
    return this.command('publicJwks', {});
  }

  /** client_credentials grant (RFC 6749 §4.4) at the token endpoint. */
  async clientCredentialsToken(clientId: string, opts: { resource?: string } = {}): Promise<string> {
    const resource = opts.resource ?? this.options.defaultResource;
    return this.tokenRequest(clientId, { grant_type: 'client_credentials', resource, scope: this.options.resources[resource].scope });
  }

  /**
   * A person's access token through authorization code + PKCE (RFC 7636): the authorization request, the sign-in
   * and consent interactions (as a browser would post them), the redirect with the code, then the token request.
   */
  async signIn(login: string, opts: { resource?: string; password?: string } = {}): Promise<string> {
    const resource = opts.resource ?? this.options.defaultResource;
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const authorize = new URL('/auth', this.issuer);
    for (const [k, v] of Object.entries({
      client_id: CONSOLE_CLIENT,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: `openid ${this.options.resources[resource].scope}`,
      resource,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      authorize.searchParams.set(k, v);

    const url = await this.browse(new CookieJar(), authorize.href, login, opts.password, (u) => u.startsWith(REDIRECT_URI));
    const callback = new URL(url).searchParams;
    if (callback.get('error')) throw new Error(`sign-in refused: ${callback.get('error')}`);
    if (callback.get('state') !== state) throw new Error('sign-in returned another state');
    return this.tokenRequest(CONSOLE_CLIENT, { grant_type: 'authorization_code', code: callback.get('code') ?? '', redirect_uri: REDIRECT_URI, code_verifier: verifier, resource });
  }

  /**
   * Acts as the person's browser for an authorization URL another program made (a native client's, with its own
   * PKCE and loopback redirect): signs in, consents, then follows the redirect to the client, delivering the code.
   * Returns the client's answer to that redirect.
   */
  async authorizeAsBrowser(authorizationUrl: string, login: string, opts: { password?: string } = {}): Promise<Response> {
    const origin = new URL(this.issuer).origin;
    const url = await this.browse(new CookieJar(), authorizationUrl, login, opts.password, (u) => new URL(u).origin !== origin);
    return fetch(url, { redirect: 'manual' });
  }

  /**
   * Acts as the person's browser for the device authorization grant (RFC 8628): opens the verification URI with
   * the user code, submits the provider's confirmation form, signs in and consents. With `abort`, refuses instead.
   */
  async approveDevice(userCode: string, login: string, opts: { password?: string; abort?: boolean } = {}): Promise<void> {
    const jar = new CookieJar();
    const page = async (res: Response) => hiddenInputs(await res.text());
    // GET renders a self-submitting form (xsrf + user_code); POSTing it renders the confirmation form.
    const first = await page(await jar.fetch(`${new URL('/device', this.issuer).href}?user_code=${encodeURIComponent(userCode)}`));
    const confirmation = await page(await jar.fetch(new URL('/device', this.issuer).href, { method: 'POST', body: new URLSearchParams(first) }));
    if (!confirmation.confirm) throw new Error('the provider did not ask to confirm the user code');
    const form = opts.abort ? { xsrf: confirmation.xsrf, user_code: confirmation.user_code, abort: 'yes' } : confirmation;
    const res = await jar.fetch(new URL('/device', this.issuer).href, { method: 'POST', body: new URLSearchParams(form) });
    if (opts.abort) return;
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !location) throw new Error(`device confirmation answered HTTP ${res.status}`);
    // Ends on the provider's success page; a refusal on the way throws.
    await this.browse(jar, new URL(location, this.issuer).href, login, opts.password, () => false);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }

  /**
   * Follows redirects and answers the sign-in and consent interactions until `stop(url)` or a page that is neither
   * (HTTP 200 off the interaction routes); returns that URL.
   */
  private async browse(jar: CookieJar, start: string, login: string, password: string | undefined, stop: (url: string) => boolean): Promise<string> {
    let url = start;
    for (let step = 0; !stop(url); step++) {
      if (step > 12) throw new Error('sign-in did not finish');
      const isInteraction = /^\/interaction\/[^/]+$/.test(new URL(url).pathname);
      let res: Response;
      if (isInteraction) {
        const { prompt } = (await (await jar.fetch(url)).json()) as { prompt: string };
        res =
          prompt === 'login'
            ? await jar.fetch(`${url}/login`, { method: 'POST', body: new URLSearchParams({ login, password: password ?? this.secrets.passwords[login] ?? '' }) })
            : await jar.fetch(`${url}/confirm`, { method: 'POST', body: new URLSearchParams() });
      } else {
        res = await jar.fetch(url);
      }
      const location = res.headers.get('location');
      if (res.status === 200 && !isInteraction) return url;
      if (res.status < 300 || res.status > 399 || !location) throw new Error(`sign-in step ${new URL(url).pathname} answered HTTP ${res.status}`);
      url = new URL(location, this.issuer).href;
    }
    return url;
  }

  private async tokenRequest(clientId: string, form: Record<string, string>): Promise<string> {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(this.secrets.clients[clientId])}`).toString('base64');
    const res = await fetch(new URL('/token', this.issuer), { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: new URLSearchParams(form) });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (res.status !== 200 || !body.access_token) throw new Error(`token endpoint answered HTTP ${res.status}: ${body.error} ${body.error_description ?? ''}`);
    return body.access_token;
  }

  private command<T>(type: string, args: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, type, ...args });
    });
  }
}

/** The hidden fields of the provider's device-flow forms (its own HTML, parsed as a browser would submit it). */
function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) fields[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return fields;
}

/** Just enough of a browser's cookie handling for one sign-in: every live cookie goes to every request. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}
