import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { CredentialRef, CredentialResolver } from '../credentials/credential-source';
import { AccessDeniedError, ProviderUnavailableError } from '../key-provider.errors';

export interface ClientSecretCredentialOptions {
  tenantId: CredentialRef;
  clientId: CredentialRef;
  clientSecret: CredentialRef;
  /** `{tenant}` is replaced by the resolved tenant id. */
  tokenEndpoint: string;
  resolver: CredentialResolver;
  caPem?: string;
  timeoutMs: number;
}

/** Tokens are renewed this long before they expire, so no request leaves with a token about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * OAuth 2.0 client-credentials grant against Entra ID's v2.0 token endpoint (what @azure/identity's
 * ClientSecretCredential does, which is not installed here). The tenant, client id and secret are resolved from
 * their references for each token request and dropped afterwards; the token is cached per scope until shortly
 * before it expires, with one request in flight per scope. Failures are typed and never carry the secret, the
 * token or the endpoint's free-text description: refused credentials are AccessDeniedError with Entra ID's
 * `error` and AADSTS code, everything transient is ProviderUnavailableError.
 */
export class ClientSecretTokenCredential implements TokenCredential {
  private readonly cache = new Map<string, AccessToken>();
  private readonly pending = new Map<string, Promise<AccessToken>>();
  /** Token requests sent, for tests and metrics. */
  requests = 0;

  constructor(private readonly options: ClientSecretCredentialOptions) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = (Array.isArray(scopes) ? scopes : [scopes]).join(' ');
    const cached = this.cache.get(scope);
    if (cached && cached.expiresOnTimestamp - RENEW_BEFORE_MS > Date.now()) return cached;
    let inFlight = this.pending.get(scope);
    if (!inFlight) {
      inFlight = this.fetchToken(scope).finally(() => this.pending.delete(scope));
      this.pending.set(scope, inFlight);
    }
    return inFlight;
  }

  /** Forgets cached tokens (after the vault rejected one). */
  reset(): void {
    this.cache.clear();
  }

  private async fetchToken(scope: string): Promise<AccessToken> {
    const { resolver } = this.options;
    const [tenantId, clientId, clientSecret] = await Promise.all([
      resolver.resolve(this.options.tenantId),
      resolver.resolve(this.options.clientId),
      resolver.resolve(this.options.clientSecret),
    ]);
    const url = new URL(this.options.tokenEndpoint.replace('{tenant}', encodeURIComponent(tenantId)));
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope }).toString();
    this.requests++;
    const started = Date.now();
    const { status, body } = await this.post(url, form);
    if (status === 200 && typeof body.access_token === 'string' && typeof body.expires_in === 'number') {
      const token: AccessToken = { token: body.access_token, expiresOnTimestamp: started + body.expires_in * 1000, tokenType: 'Bearer' };
      this.cache.set(scope, token);
      return token;
    }
    const providerCode = entraCode(body);
    const details = { operation: 'token', providerCode };
    if (status === 429 || status >= 500 || status === 200) {
      throw new ProviderUnavailableError(`Entra ID token endpoint answered ${status} (${providerCode})`, details);
    }
    throw new AccessDeniedError(`Entra ID refused the client credentials (${status} ${providerCode})`, details);
  }

  private post(url: URL, form: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const ca = this.options.caPem ? [...rootCertificates, this.options.caPem] : undefined;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca,
          timeout: this.options.timeoutMs,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form), accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => reject(unavailable('ERR_RESPONSE')));
          res.on('end', () => {
            let body: Record<string, unknown> = {};
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            } catch {
              // A proxy's HTML error page: the status alone decides.
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => reject(unavailable(e.code ?? 'ERR_REQUEST')));
      req.end(form);
    });
  }
}

function unavailable(code: string): ProviderUnavailableError {
  return new ProviderUnavailableError(`Entra ID token endpoint unreachable (${code})`, { operation: 'token', providerCode: code });
}

/** `invalid_client/AADSTS7000215`: Entra ID's error and numeric code, never its free text. */
function entraCode(body: Record<string, unknown>): string {
  const error = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : 'unknown_error';
  const aadsts = typeof body.error_description === 'string' ? /^AADSTS\d{1,10}/.exec(body.error_description)?.[0] : undefined;
  return aadsts ? `${error}/${aadsts}` : error;
}
