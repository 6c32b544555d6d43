import { CliError, ExitCode } from '../errors';
import { OAuthError, postForm, tokenSetOf } from './token-endpoint';
import { StoredCredentials, TokenStore } from './token-store';

/** Refresh a little early: a token that expires on the way to the server is refused there. */
const EXPIRY_MARGIN_MS = 30_000;

/**
 * The access token from `cmk login`, refreshed with the refresh token when it has expired (the new tokens are
 * stored again: providers rotate refresh tokens). Undefined when nobody signed in.
 */
export async function storedAccessToken(store: TokenStore, fetchFn: typeof fetch, now: () => number = Date.now): Promise<string | undefined> {
  const stored = store.read();
  if (!stored) return undefined;
  if (Date.parse(stored.expiresAt) - EXPIRY_MARGIN_MS > now()) return stored.accessToken;
  if (!stored.refreshToken) throw new CliError(`error: the sign-in stored in ${store.path} has expired; run cmk login`, ExitCode.auth);
  let refreshed;
  try {
    refreshed = tokenSetOf(
      await postForm(fetchFn, stored.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: stored.refreshToken, client_id: stored.clientId, resource: stored.resource }),
      now(),
    );
  } catch (e) {
    if (e instanceof OAuthError && e.code === 'invalid_grant') throw new CliError('error: the sign-in can no longer be refreshed (expired or revoked); run cmk login', ExitCode.auth);
    throw e;
  }
  const next: StoredCredentials = {
    ...stored,
    accessToken: refreshed.accessToken,
    refreshToken: refreshed.refreshToken ?? stored.refreshToken,
    expiresAt: new Date(refreshed.expiresAt).toISOString(),
    ...(refreshed.scope ? { scope: refreshed.scope } : {}),
  };
  store.write(next);
  return next.accessToken;
}
