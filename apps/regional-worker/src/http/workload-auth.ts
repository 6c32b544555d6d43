import { decodeJwt } from 'jose';
import { AuthenticationError, JwtVerifier } from '@cmk/auth';
import type { WorkloadIdentity } from '../crypto/key-service';

export class Unauthenticated extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'Unauthenticated';
  }
}

/**
 * Workload tokens: a JWT from the configured issuer, for the worker's audience, that names exactly one tenant
 * (the verifier's tenant claim, `cmk_tenant` by default) and one system (`cmk_system`) and expires. The
 * signature, issuer, audience and expiry are checked by @cmk/auth's JwtVerifier; the system claim is read from
 * the payload only after that. Identities are cached per token until the token's expiry, bounded.
 */
export class WorkloadAuthenticator {
  private static readonly CACHE_SIZE = 10_000;
  private readonly cache = new Map<string, { identity: WorkloadIdentity; expiresAt: number }>();

  constructor(
    private readonly verifier: JwtVerifier,
    private readonly claims: { tenant: string; system: string },
  ) {}

  async authenticate(authorization: string | undefined): Promise<WorkloadIdentity> {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization ?? '');
    if (!match) throw new Unauthenticated('a Bearer token is required');
    const token = match[1];
    const hit = this.cache.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit.identity;
    if (hit) this.cache.delete(token);
    let actor;
    try {
      actor = await this.verifier.verify(token);
    } catch (error) {
      throw new Unauthenticated(error instanceof AuthenticationError ? error.reason : 'token could not be verified');
    }
    const payload = decodeJwt(token);
    if (typeof payload.exp !== 'number') throw new Unauthenticated('workload tokens must expire (exp)');
    if (actor.tenantScope?.length !== 1) throw new Unauthenticated(`token must name exactly one tenant (claim ${this.claims.tenant})`);
    const systemId = payload[this.claims.system];
    if (typeof systemId !== 'string' || systemId.length === 0) throw new Unauthenticated(`token must name the system it acts for (claim ${this.claims.system})`);
    const identity: WorkloadIdentity = { subject: actor.subject, tenantId: actor.tenantScope[0], systemId };
    if (this.cache.size >= WorkloadAuthenticator.CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { identity, expiresAt: payload.exp * 1000 });
    return identity;
  }
}
