import { CliError, ExitCode } from '../errors';
import type { ProviderMetadata } from './oidc-discovery';
import { OAuthError, postForm, TokenSet, tokenSetOf } from './token-endpoint';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceLoginRequest {
  clientId: string;
  scope: string;
  resource?: string;
  fetch: typeof fetch;
  /** Shows the person where to go and which code to enter. */
  present(verification: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresInSeconds: number }): void;
  sleep(ms: number): Promise<void>;
  now: () => number;
}

/**
 * The device authorization grant (RFC 8628), for a terminal without a browser: the person approves on another
 * device while this one polls the token endpoint, no faster than `interval` and 5 s slower after each
 * `slow_down` (§3.5), until approved, denied or expired.
 */
export async function deviceLogin(provider: ProviderMetadata, req: DeviceLoginRequest): Promise<TokenSet> {
  if (!provider.deviceAuthorizationEndpoint) throw new CliError('error: the issuer does not offer the device authorization grant; run cmk login without --device', ExitCode.auth);
  const auth = await postForm(req.fetch, provider.deviceAuthorizationEndpoint, { client_id: req.clientId, scope: req.scope, resource: req.resource });
  const deviceCode = auth.device_code;
  const userCode = auth.user_code;
  const verificationUri = auth.verification_uri;
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof verificationUri !== 'string')
    throw new CliError('error: the issuer answered the device authorization request without a device code, user code or verification URI', ExitCode.auth);
  const expiresIn = typeof auth.expires_in === 'number' ? auth.expires_in : 600;
  let intervalMs = (typeof auth.interval === 'number' && auth.interval > 0 ? auth.interval : 5) * 1000;
  req.present({ verificationUri, userCode, expiresInSeconds: expiresIn, ...(typeof auth.verification_uri_complete === 'string' ? { verificationUriComplete: auth.verification_uri_complete } : {}) });
  const deadline = req.now() + expiresIn * 1000;
  for (;;) {
    await req.sleep(intervalMs);
    if (req.now() > deadline) throw new CliError('error: the device code expired before the sign-in was approved; run cmk login --device again', ExitCode.auth);
    try {
      const json = await postForm(req.fetch, provider.tokenEndpoint, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: req.clientId, resource: req.resource });
      return tokenSetOf(json, req.now());
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      if (e.code === 'authorization_pending') continue;
      if (e.code === 'slow_down') {
        intervalMs += 5_000;
        continue;
      }
      if (e.code === 'access_denied') throw new CliError('error: the sign-in was denied on the verification page', ExitCode.auth);
      if (e.code === 'expired_token') throw new CliError('error: the device code expired before the sign-in was approved; run cmk login --device again', ExitCode.auth);
      throw e;
    }
  }
}
