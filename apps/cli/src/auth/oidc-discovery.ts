import { CliError, ExitCode } from '../errors';

/** The parts of an OpenID Provider's metadata `cmk login` uses. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint: string;
  deviceAuthorizationEndpoint?: string;
  revocationEndpoint?: string;
  codeChallengeMethods?: string[];
}

/**
 * OpenID Connect Discovery 1.0. The metadata must name the issuer it was fetched for (§4.3): otherwise a
 * redirect or a misconfigured URL could send the person's password and tokens to another provider.
 */
export async function discover(issuer: string, fetchFn: typeof fetch): Promise<ProviderMetadata> {
  const base = issuer.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`${base}/.well-known/openid-configuration`);
  } catch {
    throw new CliError(`error: --issuer must be a URL (got "${issuer}")`, ExitCode.usage);
  }
  let res: Response;
  try {
    res = await fetchFn(url, { headers: { accept: 'application/json' }, redirect: 'error' });
  } catch (e) {
    throw new CliError(`error: cannot reach the issuer ${base} (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`, ExitCode.unavailable);
  }
  if (!res.ok) throw new CliError(`error: the issuer's discovery document answered HTTP ${res.status}`, ExitCode.unavailable);
  const m = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (typeof m.issuer !== 'string' || m.issuer.replace(/\/+$/, '') !== base)
    throw new CliError(`error: the discovery document names another issuer (${String(m.issuer)}), refusing to sign in`, ExitCode.auth);
  if (typeof m.token_endpoint !== 'string') throw new CliError('error: the issuer publishes no token endpoint', ExitCode.auth);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    issuer: m.issuer,
    tokenEndpoint: m.token_endpoint,
    authorizationEndpoint: str(m.authorization_endpoint),
    deviceAuthorizationEndpoint: str(m.device_authorization_endpoint),
    revocationEndpoint: str(m.revocation_endpoint),
    codeChallengeMethods: Array.isArray(m.code_challenge_methods_supported) ? (m.code_challenge_methods_supported as string[]) : undefined,
  };
}
