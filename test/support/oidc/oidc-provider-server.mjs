// A real OpenID Provider (panva/oidc-provider 9, ESM only) for the auth tests, run as a child process of Jest
// (which runs CommonJS). Started by test/support/oidc/oidc-provider.ts; configuration arrives as JSON in
// OIDC_TEST_CONFIG, control (rotate keys, simulate an outage, read fetch counters) over the IPC channel.
//
// Access tokens are RFC 9068 JWTs for the configured resource indicators; users' and clients' extra claims
// (groups, tenant, cmk_system, nested ones too) are added to them with extraTokenClaims. People sign in through
// authorization code + PKCE: /interaction/:uid/login checks the password, /interaction/:uid/confirm grants the
// requested scopes, as a real sign-in UI would. Native clients (a command line) may also use refresh tokens
// (with the offline_access scope) and the device authorization grant, whose user-code pages are the provider's own.
import { generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
const alg = config.alg ?? 'ES256';
const cookieKeys = [randomBytes(32).toString('base64url')];

const state = {
  /** Newest first: the first key signs, the others are still published. */
  keys: [newKey()],
  outage: false,
  counts: { jwks: 0, discovery: 0 },
  provider: undefined,
  issuer: undefined,
};

function newKey() {
  const pair = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg] })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

function publicJwks() {
  return { keys: state.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub) };
}

function claimsFor(token) {
  if (token.accountId) return config.users?.[token.accountId]?.claims;
  return config.clients?.find((c) => c.client_id === token.clientId)?.claims;
}

// The key store is fixed when a Provider is built, so a rotation builds a new one with the new key set. Grants,
// sessions and interactions live in oidc-provider's module-level memory adapter and survive the swap.
function buildProvider() {
  const signingKid = state.keys[0].kid;
  const provider = new Provider(state.issuer, {
    jwks: { keys: state.keys },
    cookies: { keys: cookieKeys },
    routes: { authorization: '/auth', token: '/token', jwks: '/jwks', userinfo: '/me' },
    clients: config.clients.map(({ claims, accessTokenTtlSeconds, ...metadata }) => metadata),
    clientDefaults: { id_token_signed_response_alg: alg },
    enabledJWA: { authorizationSigningAlgValues: [alg], idTokenSigningAlgValues: [alg] },
    // offline_access (refresh tokens) only where a native client can use it; the other suites see no change.
    scopes: ['openid', ...(hasNativeClients() ? ['offline_access'] : []), ...Object.values(config.resources).map((r) => r.scope)],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Only for native (command line) clients: the suites that configure none see the provider unchanged.
      deviceFlow: { enabled: hasNativeClients() },
      revocation: { enabled: hasNativeClients() },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? config.defaultResource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          const resource = config.resources[indicator];
          if (!resource) throw new errors.InvalidTarget();
          const ttl = clientTokenTtl(client) ?? resource.ttlSeconds ?? 600;
          return { scope: resource.scope, audience: indicator, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg, kid: signingKid } } };
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => (config.users?.[sub] ? { accountId: sub, claims: async () => ({ sub }) } : undefined),
    extraTokenClaims: (_ctx, token) => claimsFor(token),
  });
  provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${error.stack}\n`));
  return provider;
}

/** A workload's own access token lifetime, when its configuration sets one (clients without it are unchanged). */
function clientTokenTtl(client) {
  return config.clients.find((c) => c.client_id === client?.clientId)?.accessTokenTtlSeconds;
}

function hasNativeClients() {
  return config.clients.some((c) => c.application_type === 'native');
}

function passwordMatches(login, password) {
  const expected = config.users?.[login]?.password;
  if (typeof expected !== 'string' || typeof password !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(password);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, action) {
  const provider = state.provider;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && action === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ prompt: details.prompt.name }));
    return;
  }
  if (req.method === 'POST' && action === 'login' && details.prompt.name === 'login') {
    const form = await formBody(req);
    const login = form.get('login');
    const result = passwordMatches(login, form.get('password'))
      ? { login: { accountId: login } }
      : { error: 'access_denied', error_description: 'wrong login or password' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method === 'POST' && action === 'confirm' && details.prompt.name === 'consent') {
    const { prompt: { details: missing }, params, session, grantId } = details;
    const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return;
  }
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'unexpected interaction step', prompt: details.prompt.name }));
}

const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://local').pathname;
    if (req.method === 'GET' && (path === '/jwks' || path === '/.well-known/openid-configuration')) {
      state.counts[path === '/jwks' ? 'jwks' : 'discovery']++;
      if (state.outage) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('temporarily unavailable');
        return;
      }
    }
    const match = /^\/interaction\/([^/]+)(?:\/(login|confirm))?$/.exec(path);
    if (match) return await interaction(req, res, match[1], match[2]);
    return state.provider.callback()(req, res);
  } catch (error) {
    process.stderr.write(`oidc test server error: ${error.stack}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});

const commands = {
  rotate: ({ retireOld }) => {
    state.keys = retireOld ? [newKey()] : [newKey(), ...state.keys];
    state.provider = buildProvider();
    return { signingKid: state.keys[0].kid, publishedKids: state.keys.map((k) => k.kid) };
  },
  outage: ({ down }) => {
    state.outage = down;
    return { outage: state.outage };
  },
  stats: () => ({ ...state.counts, signingKid: state.keys[0].kid, publishedKids: state.keys.map((k) => k.kid) }),
  publicJwks: () => publicJwks(),
};

process.on('message', (message) => {
  const { id, type, ...args } = message ?? {};
  try {
    const command = commands[type];
    if (!command) throw new Error(`unknown command ${type}`);
    process.send({ id, ok: true, result: command(args) });
  } catch (error) {
    process.send({ id, ok: false, error: error.message });
  }
});
// The parent going away (Jest killed, a crash) must not leave the provider running.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  state.issuer = `http://127.0.0.1:${port}`;
  state.provider = buildProvider();
  process.send({ type: 'ready', issuer: state.issuer, port });
});
