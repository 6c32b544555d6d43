import { CliError, ExitCode } from '../errors';

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope?: string;
}

/** An OAuth error answer (RFC 6749 §5.2): the code and the provider's description, never a token. */
export class OAuthError extends CliError {
  constructor(readonly code: string, description: string | undefined, readonly status: number) {
    super(`error: the issuer refused: ${code}${description ? ` (${description})` : ''}`, ExitCode.auth);
    this.name = 'OAuthError';
  }
}

/** POSTs a form to an OAuth endpoint and returns the JSON answer; OAuth errors become OAuthError. */
export async function postForm(fetchFn: typeof fetch, endpoint: string, form: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
  let res: Response;
  try {
    res = await fetchFn(endpoint, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body });
  } catch (e) {
    throw new CliError(`error: cannot reach ${new URL(endpoint).origin} (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message})`, ExitCode.unavailable);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof json.error === 'string') {
    throw new OAuthError(typeof json.error === 'string' ? json.error : `http_${res.status}`, typeof json.error_description === 'string' ? json.error_description : undefined, res.status);
  }
  return json;
}

/** Reads a successful token response (RFC 6749 §5.1). */
export function tokenSetOf(json: Record<string, unknown>, now: number): TokenSet {
  if (typeof json.access_token !== 'string' || json.access_token.length === 0) throw new CliError('error: the issuer returned no access token', ExitCode.auth);
  const ttl = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 300;
  return {
    accessToken: json.access_token,
    ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
    expiresAt: now + ttl * 1000,
    ...(typeof json.scope === 'string' ? { scope: json.scope } : {}),
  };
}
