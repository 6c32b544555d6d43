import { createHash, randomBytes } from 'node:crypto';
import { CliError, ExitCode } from '../errors';
import { LoopbackReceiver } from './loopback-receiver';
import type { ProviderMetadata } from './oidc-discovery';
import { postForm, TokenSet, tokenSetOf } from './token-endpoint';

export interface LoginRequest {
  clientId: string;
  scope: string;
  resource?: string;
  timeoutMs: number;
  fetch: typeof fetch;
  /** Shows the person where to sign in (and may open a browser there). */
  present(authorizationUrl: string): void;
  now: () => number;
}

/**
 * Authorization code with PKCE (RFC 7636, S256) and a loopback redirect (RFC 8252): the browser signs the person
 * in at the issuer and hands the code to this process only; the verifier proves the code was asked for here.
 */
export async function pkceLogin(provider: ProviderMetadata, req: LoginRequest): Promise<TokenSet> {
  if (!provider.authorizationEndpoint) throw new CliError('error: the issuer publishes no authorization endpoint; try cmk login --device', ExitCode.auth);
  if (provider.codeChallengeMethods && !provider.codeChallengeMethods.includes('S256'))
    throw new CliError('error: the issuer does not support PKCE with S256; refusing a sign-in without it', ExitCode.auth);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const receiver = await LoopbackReceiver.open(state);
  try {
    const url = new URL(provider.authorizationEndpoint);
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: req.clientId,
      redirect_uri: receiver.redirectUri,
      scope: req.scope,
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: req.resource,
      // OpenID Connect grants offline_access (a refresh token) only with explicit consent.
      prompt: req.scope.split(' ').includes('offline_access') ? 'consent' : undefined,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    req.present(url.href);
    const callback = await receiver.wait(req.timeoutMs);
    const error = callback.get('error');
    if (error) throw new CliError(`error: sign-in refused by the issuer: ${error}${callback.get('error_description') ? ` (${callback.get('error_description')})` : ''}`, ExitCode.auth);
    const code = callback.get('code');
    if (!code) throw new CliError('error: the issuer redirected back without a code', ExitCode.auth);
    const json = await postForm(req.fetch, provider.tokenEndpoint, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: receiver.redirectUri,
      client_id: req.clientId,
      code_verifier: verifier,
      resource: req.resource,
    });
    return tokenSetOf(json, req.now());
  } finally {
    await receiver.close();
  }
}
