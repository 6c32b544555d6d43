import { exportJWK, generateKeyPair, importJWK, JSONWebKeySet, JWK, SignJWT } from 'jose';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

export interface IssueTokenInput {
  subject: string;
  roles: string[];
  tenants?: string[];
  ttlSeconds?: number;
  /** Another audience than the issuer's default (e.g. regional workers' `openkcm-cmk-worker`). */
  audience?: string;
  /** Further claims (e.g. a workload token's `cmk_tenant` and `cmk_system`). They cannot override the above. */
  claims?: Record<string, string | number | boolean>;
}

/**
 * The embedded mode's own token issuer, so a newcomer can try the service at once. Its ES256 key lives in
 * the data directory (mode 0600) and is never logged; production configures a real IdP instead.
 */
export class DevIssuer {
  private constructor(
    readonly issuer: string,
    readonly audience: string,
    private readonly privateKey: Awaited<ReturnType<typeof importJWK>>,
    private readonly publicJwk: JWK,
  ) {}

  static async open(opts: { dataDir?: string; issuer: string; audience: string }): Promise<DevIssuer> {
    const file = opts.dataDir ? join(opts.dataDir, 'dev-issuer.jwk.json') : undefined;
    let priv: JWK;
    if (file && existsSync(file)) {
      priv = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    } else {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      priv = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
      if (file) {
        mkdirSync(opts.dataDir!, { recursive: true });
        writeFileSync(file, JSON.stringify(priv), { mode: 0o600 });
      }
    }
    const { d: _d, ...pub } = priv;
    return new DevIssuer(opts.issuer, opts.audience, await importJWK(priv, 'ES256'), pub);
  }

  get jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  async issue(input: IssueTokenInput): Promise<string> {
    return new SignJWT({ ...(input.claims ?? {}), roles: input.roles, ...(input.tenants ? { tenants: input.tenants } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid })
      .setIssuer(this.issuer)
      .setAudience(input.audience ?? this.audience)
      .setSubject(input.subject)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + (input.ttlSeconds ?? 3600))
      .sign(this.privateKey);
  }
}
