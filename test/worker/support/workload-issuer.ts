import { exportJWK, generateKeyPair, JSONWebKeySet, JWK, KeyLike, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { JwtVerifier } from '@cmk/auth';

export const WORKER_AUDIENCE = 'openkcm-cmk-worker';
export const TEST_ISSUER = 'urn:cmk:test-workload-issuer';

/** Issues workload tokens (cmk_tenant, cmk_system) for the worker tests; @cmk/auth's DevIssuer has no system claim. */
export class WorkloadIssuer {
  private constructor(
    private readonly privateKey: KeyLike,
    readonly jwk: JWK,
  ) {}

  static async create(): Promise<WorkloadIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new WorkloadIssuer(privateKey, { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' });
  }

  get jwks(): JSONWebKeySet {
    return { keys: [this.jwk] };
  }

  verifier(): JwtVerifier {
    return new JwtVerifier({ issuer: TEST_ISSUER, audience: WORKER_AUDIENCE, jwks: this.jwks, rolesClaim: 'roles', tenantClaim: 'cmk_tenant', clockToleranceSeconds: 5 });
  }

  token(claims: { tenant?: string; system?: string; subject?: string; audience?: string; ttlSeconds?: number | null; extra?: Record<string, unknown> }): Promise<string> {
    const payload: Record<string, unknown> = { ...(claims.extra ?? {}) };
    if (claims.tenant !== undefined) payload.cmk_tenant = claims.tenant;
    if (claims.system !== undefined) payload.cmk_system = claims.system;
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', kid: this.jwk.kid })
      .setIssuer(TEST_ISSUER)
      .setAudience(claims.audience ?? WORKER_AUDIENCE)
      .setSubject(claims.subject ?? `workload:${claims.system ?? 'none'}`)
      .setIssuedAt()
      .setJti(randomUUID());
    if (claims.ttlSeconds !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (claims.ttlSeconds ?? 600));
    return jwt.sign(this.privateKey);
  }
}
