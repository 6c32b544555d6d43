import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { deviceLogin, DEVICE_CODE_GRANT } from './device-login';
import type { ProviderMetadata } from './oidc-discovery';
import type { TokenSet } from './token-endpoint';

/**
 * A protocol-level stand-in for an RFC 8628 token endpoint (the real oidc-provider harness never answers
 * slow_down, so that branch is driven here): each poll gets the next scripted answer.
 */
async function scriptedProvider(answers: [number, Record<string, unknown>][]) {
  const polls: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      let answer: [number, Record<string, unknown>];
      if (req.url === '/device/auth') answer = [200, { device_code: 'dc-1', user_code: 'WDJB-MJHT', verification_uri: 'https://idp.example/device', verification_uri_complete: 'https://idp.example/device?user_code=WDJB-MJHT', expires_in: 600, interval: 2 }];
      else {
        polls.push(form);
        answer = answers.shift() ?? [400, { error: 'expired_token' }];
      }
      res.writeHead(answer[0], { 'content-type': 'application/json' }).end(JSON.stringify(answer[1]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const metadata: ProviderMetadata = { issuer: base, tokenEndpoint: `${base}/token`, deviceAuthorizationEndpoint: `${base}/device/auth` };
  return { metadata, polls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('device authorization grant (against a scripted RFC 8628 endpoint)', () => {
  const pending: [number, Record<string, unknown>] = [400, { error: 'authorization_pending' }];

  async function run(answers: [number, Record<string, unknown>][]) {
    const p = await scriptedProvider(answers);
    const sleeps: number[] = [];
    let clock = 1_000_000;
    const shown: unknown[] = [];
    try {
      const result = await deviceLogin(p.metadata, {
        clientId: 'cmk-cli',
        scope: 'openid offline_access',
        resource: 'urn:cmk',
        fetch: globalThis.fetch,
        present: (v) => shown.push(v),
        sleep: async (ms) => void (sleeps.push(ms), (clock += ms)),
        now: () => clock,
      }).then(
        (tokens): { tokens?: TokenSet; error?: Error } => ({ tokens }),
        (error: Error): { tokens?: TokenSet; error?: Error } => ({ error }),
      );
      return { ...result, sleeps, shown, polls: p.polls, clock };
    } finally {
      await p.close();
    }
  }

  it('polls no faster than the interval, 5 s slower after each slow_down, until the tokens arrive', async () => {
    const r = await run([pending, [400, { error: 'slow_down' }], pending, [400, { error: 'slow_down' }], [200, { access_token: 'at', refresh_token: 'rt', expires_in: 60, token_type: 'Bearer' }]]);
    expect(r.sleeps).toEqual([2000, 2000, 7000, 7000, 12000]);
    expect(r.tokens).toEqual({ accessToken: 'at', refreshToken: 'rt', expiresAt: r.clock + 60_000 });
    expect(r.shown).toEqual([{ verificationUri: 'https://idp.example/device', verificationUriComplete: 'https://idp.example/device?user_code=WDJB-MJHT', userCode: 'WDJB-MJHT', expiresInSeconds: 600 }]);
    expect(Object.fromEntries(r.polls[0])).toEqual({ grant_type: DEVICE_CODE_GRANT, device_code: 'dc-1', client_id: 'cmk-cli', resource: 'urn:cmk' });
  });

  it('stops with a clear error when the person denies, or the code expires', async () => {
    expect((await run([pending, [400, { error: 'access_denied' }]])).error?.message).toBe('error: the sign-in was denied on the verification page');
    expect((await run([pending, [400, { error: 'expired_token' }]])).error?.message).toMatch(/device code expired/);
    // The deadline holds even when the provider keeps answering pending.
    const forever = await run(Array.from({ length: 400 }, () => pending));
    expect(forever.error?.message).toMatch(/device code expired/);
    expect(forever.polls.length).toBe(300);
  });
});
