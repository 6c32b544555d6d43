import { spawn } from 'node:child_process';
import { Command } from 'commander';
import type { CliIo } from '../http-client';
import { UsageError } from '../errors';
import { deviceLogin } from '../auth/device-login';
import { discover } from '../auth/oidc-discovery';
import { pkceLogin } from '../auth/pkce-login';
import { postForm } from '../auth/token-endpoint';
import { credentialsPath, TokenStore } from '../auth/token-store';
import { int } from './context';

interface LoginOptions {
  issuer?: string;
  clientId?: string;
  scope?: string;
  resource?: string;
  device?: boolean;
  browser: boolean;
  timeout: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `cmk login` and `cmk logout`: people sign in at the configured issuer; the tokens stay in the user's config. */
export function loginCommands(io: CliIo, opts: { sleep?: (ms: number) => Promise<void> } = {}): Command[] {
  const login = new Command('login')
    .description('sign in at the issuer (authorization code + PKCE in a browser, or --device) and store the tokens')
    .option('--issuer <url>', 'OpenID Provider (env CMK_ISSUER)')
    .option('--client-id <id>', 'public client registered for the CLI (env CMK_CLIENT_ID)', undefined)
    .option('--scope <scopes>', 'scopes to ask for (env CMK_SCOPE)')
    .option('--resource <uri>', 'resource indicator of the CMK API, RFC 8707 (env CMK_RESOURCE)')
    .option('--device', 'device authorization grant: approve on another device (no browser here)')
    .option('--no-browser', 'print the sign-in URL without opening a browser')
    .option('--timeout <seconds>', 'how long to wait for the sign-in', int('--timeout'), 300)
    .action(async (o: LoginOptions) => {
      const issuer = o.issuer ?? io.env.CMK_ISSUER;
      if (!issuer) throw new UsageError('error: give --issuer <url> or set CMK_ISSUER');
      const clientId = o.clientId ?? io.env.CMK_CLIENT_ID ?? 'cmk-cli';
      const scope = o.scope ?? io.env.CMK_SCOPE ?? 'openid offline_access';
      const resource = o.resource ?? io.env.CMK_RESOURCE;
      const provider = await discover(issuer, io.fetch);
      const common = { clientId, scope, resource, fetch: io.fetch, now: Date.now };
      const tokens = o.device
        ? await deviceLogin(provider, {
            ...common,
            sleep: opts.sleep ?? sleep,
            present: (v) =>
              io.stderr.write(`To sign in, open ${v.verificationUri} and enter the code ${v.userCode}\n${v.verificationUriComplete ? `  (or open ${v.verificationUriComplete})\n` : ''}Waiting for approval (the code expires in ${Math.round(v.expiresInSeconds / 60)} min)...\n`),
          })
        : await pkceLogin(provider, {
            ...common,
            timeoutMs: o.timeout * 1000,
            present: (url) => {
              io.stderr.write(`Open this URL in a browser to sign in:\n  ${url}\n`);
              if (o.browser && io.stdout.isTTY) openBrowser(url);
            },
          });
      const store = new TokenStore(credentialsPath(io.env));
      store.write({
        version: 1,
        issuer: provider.issuer,
        clientId,
        tokenEndpoint: provider.tokenEndpoint,
        ...(provider.revocationEndpoint ? { revocationEndpoint: provider.revocationEndpoint } : {}),
        ...(resource ? { resource } : {}),
        accessToken: tokens.accessToken,
        ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
        expiresAt: new Date(tokens.expiresAt).toISOString(),
        ...(tokens.scope ? { scope: tokens.scope } : {}),
      });
      io.stdout.write(`signed in at ${provider.issuer}; access token valid until ${new Date(tokens.expiresAt).toISOString()}${tokens.refreshToken ? ' (refreshed automatically)' : ''}; stored in ${store.path}\n`);
    });

  const logout = new Command('logout')
    .description('delete the stored tokens (and revoke the refresh token at the issuer when it allows)')
    .action(async () => {
      const store = new TokenStore(credentialsPath(io.env));
      let stored;
      try {
        stored = store.read();
      } catch {
        // A file we refuse to read (wrong mode, damaged) is still ours to delete.
      }
      if (stored?.refreshToken && stored.revocationEndpoint) {
        // RFC 7009; best effort: signing out here must work even when the issuer is unreachable.
        await postForm(io.fetch, stored.revocationEndpoint, { token: stored.refreshToken, token_type_hint: 'refresh_token', client_id: stored.clientId }).catch(() =>
          io.stderr.write('warning: the issuer could not revoke the refresh token; it stays valid until it expires\n'),
        );
      }
      io.stdout.write(store.delete() ? `signed out; deleted ${store.path}\n` : 'not signed in\n');
    });
  return [login, logout];
}

/** The system browser (RFC 8252 §8.12: not an embedded one); if none starts, the printed URL is enough. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    spawn(cmd, args, { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
  } catch {
    /* no browser: the URL is printed */
  }
}
