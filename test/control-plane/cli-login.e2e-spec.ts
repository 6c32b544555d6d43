/**
 * `cmk login` against a real OpenID Provider (oidc-provider 9 in a child process) with a public native client,
 * then `cmk` calling the real control plane (PostgreSQL) with the stored token. The test plays the person's
 * browser: it opens the URL the CLI prints (or the verification page, for --device) and signs in there.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../apps/cli/src/program';
import { OidcTestProvider } from '../support/oidc/oidc-provider';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';

const API = 'urn:openkcm:cmk';
let idp: OidcTestProvider;
let cp: TestControlPlane;
let home: string;

beforeAll(async () => {
  idp = await OidcTestProvider.start({
    resources: { [API]: { scope: 'cmk', ttlSeconds: 300 } },
    defaultResource: API,
    users: { olga: { claims: { groups: ['cmk-platform'] } } },
    workloads: {},
    nativeClients: ['cmk-cli'],
  });
  cp = await startTestControlPlane({
    env: {
      CMK_AUTH_JWKS_URL: '',
      CMK_AUTH_ISSUERS: JSON.stringify([{ issuer: idp.issuer, audience: API, rolesClaim: 'groups', tenantClaim: 'tenant', roleMapping: { 'cmk-platform': 'platform-operator' }, passThroughCmkRoles: false }]),
    },
  });
  home = mkdtempSync(join(tmpdir(), 'cmk-login-'));
}, 120_000);

afterAll(async () => {
  await cp?.close();
  await idp?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Runs `cmk` in process; `onStderr` sees what it prints while it runs (the sign-in URL, the user code). */
function cmk(args: string[], onStderr?: (text: string) => void, sleeps?: number[]) {
  const out = { stdout: '', stderr: '' };
  const done = runCli(
    args,
    {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => ((out.stderr += s), onStderr?.(out.stderr)) },
      env: { CMK_URL: cp.url, XDG_CONFIG_HOME: join(home, 'config'), HOME: home, CMK_ISSUER: idp.issuer, CMK_CLIENT_ID: 'cmk-cli', CMK_RESOURCE: API, CMK_SCOPE: 'openid offline_access cmk' },
      fetch: globalThis.fetch,
    },
    // Device-flow polls: the interval is recorded, the wait shortened (the provider does not enforce it).
    { sleep: async (ms) => void (sleeps?.push(ms), await new Promise((r) => setTimeout(r, 100))) },
  );
  return done.then((code) => ({ code, ...out }));
}

const credentials = () => join(home, 'config', 'cmk', 'credentials.json');
const stored = () => JSON.parse(readFileSync(credentials(), 'utf8')) as Record<string, string>;

describe('cmk login (real oidc-provider, real control plane)', () => {
  it('signs in with authorization code + PKCE on a loopback redirect, stores the tokens 0600, and uses them', async () => {
    let browser: Promise<Response> | undefined;
    const login = await cmk(['login'], (text) => {
      const url = /https?:\/\/\S+\/auth\?\S+/.exec(text)?.[0];
      if (url && !browser) browser = idp.authorizeAsBrowser(url, 'olga');
    });
    expect(login).toMatchObject({ code: 0 });
    expect(login.stdout).toMatch(/^signed in at http:\/\/127\.0\.0\.1:\d+; access token valid until .* \(refreshed automatically\); stored in .*credentials\.json\n$/);
    const page = await browser!;
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in to cmk');

    const url = new URL(/https?:\/\/\S+\/auth\?\S+/.exec(login.stderr)![0]);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(statSync(credentials()).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'cmk')).mode & 0o777).toBe(0o700);
    const creds = stored();
    expect(creds).toMatchObject({ version: 1, issuer: idp.issuer, clientId: 'cmk-cli', resource: API, accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect(login.stdout + login.stderr).not.toContain(creds.accessToken);

    // No --token, no CMK_TOKEN: the stored sign-in is used; the control plane knows who it is.
    const list = await cmk(['--json', 'tenants', 'list']);
    expect(list).toMatchObject({ code: 0 });
    expect(JSON.parse(list.stdout)).toHaveProperty('items');
  });

  it('refreshes an expired access token with the refresh token and stores the new tokens', async () => {
    const before = stored();
    writeFileSync(credentials(), JSON.stringify({ ...before, expiresAt: new Date(Date.now() - 60_000).toISOString() }), { mode: 0o600 });
    const list = await cmk(['--json', 'tenants', 'list']);
    expect(list).toMatchObject({ code: 0 });
    const after = stored();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now() + 60_000);
    expect(statSync(credentials()).mode & 0o777).toBe(0o600);
  });

  it('refuses a credentials file others can read', async () => {
    chmodSync(credentials(), 0o644);
    const list = await cmk(['--json', 'tenants', 'list']);
    expect(list.code).toBe(6);
    expect(list.stderr).toMatch(/credentials\.json is readable by others \(mode 644\)/);
    chmodSync(credentials(), 0o600);
  });

  it('signs in with the device authorization grant (user code approved in the browser)', async () => {
    let approval: Promise<void> | undefined;
    const sleeps: number[] = [];
    const login = await cmk(
      ['login', '--device'],
      (text) => {
        const code = /enter the code (\S+)/.exec(text)?.[1];
        if (code && !approval) approval = idp.approveDevice(code, 'olga');
      },
      sleeps,
    );
    await approval;
    expect(login).toMatchObject({ code: 0 });
    expect(login.stderr).toMatch(/To sign in, open http:\/\/127\.0\.0\.1:\d+\/device and enter the code/);
    expect(sleeps.length).toBeGreaterThanOrEqual(1);
    expect(sleeps.every((ms) => ms === 5000)).toBe(true); // the provider's interval
    expect((await cmk(['--json', 'tenants', 'list'])).code).toBe(0);
  });

  it('reports a denied device sign-in, and logout deletes the tokens (revoking the refresh token)', async () => {
    let refusal: Promise<void> | undefined;
    const denied = await cmk(['login', '--device'], (text) => {
      const code = /enter the code (\S+)/.exec(text)?.[1];
      if (code && !refusal) refusal = idp.approveDevice(code, 'olga', { abort: true });
    });
    await refusal;
    expect(denied.code).toBe(6);
    expect(denied.stderr).toMatch(/denied/);

    const refreshToken = stored().refreshToken;
    const logout = await cmk(['logout']);
    expect(logout).toMatchObject({ code: 0, stdout: expect.stringMatching(/^signed out; deleted .*credentials\.json\n$/) });
    expect(() => statSync(credentials())).toThrow();
    // The revoked refresh token no longer works at the issuer.
    const res = await fetch(new URL('/token', idp.issuer), { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'cmk-cli' }) });
    expect(((await res.json()) as { error?: string }).error).toBe('invalid_grant');
    expect(await cmk(['logout'])).toMatchObject({ code: 0, stdout: 'not signed in\n' });
    // Signed out, the API refuses: 401 with the CLI's auth exit code.
    expect((await cmk(['--json', 'tenants', 'list'])).code).toBe(6);
  });
});
