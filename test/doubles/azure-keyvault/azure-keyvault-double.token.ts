import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface DoubleClient {
  clientId: string;
  clientSecret: string;
  /** `all`: every keys permission (Key Vault Crypto Officer); `read`: get and list only (Reader). */
  role: 'all' | 'read';
}

interface IssuedToken {
  clientId: string;
  role: DoubleClient['role'];
  expiresAt: number;
}

export const VAULT_SCOPE = 'https://vault.azure.net/.default';

/**
 * The Entra ID token endpoint DOUBLE (`/{tenant}/oauth2/v2.0/token`, client-credentials grant): it checks the
 * tenant, the client id and secret and the scope, and issues opaque bearer tokens the vault double accepts.
 * Error bodies follow Entra ID's (`error`, `error_description` with an AADSTS code, `error_codes`).
 */
export class TokenEndpointDouble {
  private readonly tokens = new Map<string, IssuedToken>();
  /** Token requests received, for tests that count them (a credential should cache tokens). */
  issued = 0;

  constructor(
    readonly tenantId: string,
    private readonly clients: DoubleClient[],
    private readonly tokenLifetimeSeconds = 3599,
  ) {}

  token(tenantId: string, form: URLSearchParams): { status: number; body: Record<string, unknown> } {
    const fail = (status: number, error: string, code: number, description: string) => ({
      status,
      body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp: new Date().toISOString() },
    });
    if (tenantId !== this.tenantId) return fail(400, 'invalid_request', 90002, `Tenant '${tenantId}' not found.`);
    if (form.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const client = this.clients.find((c) => c.clientId === form.get('client_id'));
    if (!client) return fail(400, 'unauthorized_client', 700016, `Application with identifier '${form.get('client_id')}' was not found in the directory.`);
    const secret = Buffer.from(form.get('client_secret') ?? '');
    const expected = Buffer.from(client.clientSecret);
    if (secret.length !== expected.length || !timingSafeEqual(secret, expected)) {
      return fail(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    if (form.get('scope') !== VAULT_SCOPE) return fail(400, 'invalid_scope', 1002012, 'The provided value for scope is not valid.');
    this.issued++;
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, { clientId: client.clientId, role: client.role, expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000 });
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, ext_expires_in: this.tokenLifetimeSeconds, access_token: accessToken },
    };
  }

  /** The caller behind a bearer token, or undefined for a missing, unknown or expired one. */
  caller(authorization: string | undefined): IssuedToken | undefined {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const issued = token ? this.tokens.get(token) : undefined;
    return issued && issued.expiresAt > Date.now() ? issued : undefined;
  }

  /** Makes every token issued so far unusable, as a revoked or expired token would be. */
  revokeAll(): void {
    this.tokens.clear();
  }
}
