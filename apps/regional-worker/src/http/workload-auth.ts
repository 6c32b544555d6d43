import { decodeJwt } from 'jose';
import { AuthenticationError, IssuerRegistry, JwtVerifier, TokenRefused } from '@cmk/auth';
import type { WorkerAuthRefusal } from '@cmk/orbital';
import type { WorkloadIdentity } from '../crypto/key-service';
import { workloadFromSans } from './spiffe-id';
import type { PresentedCertificate } from './worker-tls';

export class Unauthenticated extends Error {
  /** @param code what the access-decision record says (the detail is for the caller, never recorded) */
  constructor(
    detail: string,
    readonly code: WorkerAuthRefusal,
  ) {
    super(detail);
    this.name = 'Unauthenticated';
  }
}

/** What a request brings to prove who it is: a bearer token, a client certificate (mutual TLS), or both. */
export interface WorkloadCredentials {
  authorization?: string;
  certificate?: PresentedCertificate;
}

export interface WorkloadAuthOptions {
  /** Used for issuers that configure no workload mapping of their own (the single-issuer settings, embedded mode). */
  defaultClaims: { tenant: string; system: string };
  /** Mutual TLS: the SPIFFE trust domain client certificates must name. Without it certificates identify nobody. */
  trustDomain?: string;
}

/** OpenSSL verification codes a caller most often meets, in words; any other is shown as its code. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is not issued by the workload CA this worker trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is not issued by the workload CA this worker trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'is not issued by the workload CA this worker trusts',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed, not issued by the workload CA this worker trusts',
  CERT_REVOKED: 'is revoked',
  INVALID_PURPOSE: 'is not for client authentication',
};

/**
 * Workload identity: a JWT from one of the trusted issuers, for the worker's audience, that names exactly one
 * tenant and one system and expires; or a client certificate verified against the workload CA whose SPIFFE ID
 * names them. With both, they must name the same tenant and system: a token cannot widen what a certificate
 * proves, nor the other way round. Who the identity may act for is decided after this, by the local access
 * decision (an unknown system is denied there).
 */
export class WorkloadAuthenticator {
  private static readonly CACHE_SIZE = 10_000;
  private readonly cache = new Map<string, { identity: WorkloadIdentity; expiresAt: number }>();
  private readonly registry: IssuerRegistry;

  constructor(
    verifier: JwtVerifier | IssuerRegistry,
    private readonly options: WorkloadAuthOptions,
  ) {
    this.registry = verifier instanceof IssuerRegistry ? verifier : verifier.registry;
  }

  async authenticate(credentials: WorkloadCredentials): Promise<WorkloadIdentity> {
    const fromCertificate = this.certificateIdentity(credentials.certificate);
    if (credentials.authorization === undefined || credentials.authorization === '') {
      if (fromCertificate) return fromCertificate;
      throw new Unauthenticated(this.options.trustDomain ? 'a Bearer token or a workload client certificate is required' : 'a Bearer token is required', 'missing-credentials');
    }
    const fromToken = await this.tokenIdentity(credentials.authorization);
    if (fromCertificate && (fromCertificate.tenantId !== fromToken.tenantId || fromCertificate.systemId !== fromToken.systemId)) {
      throw new Unauthenticated('the client certificate and the bearer token name different workloads (tenant or system)', 'credentials-mismatch');
    }
    return fromToken;
  }

  private certificateIdentity(certificate: PresentedCertificate | undefined): WorkloadIdentity | undefined {
    if (!certificate || !this.options.trustDomain) return undefined;
    // A certificate that was presented and fails is refused even next to a good token: it is a false claim.
    if (!certificate.verified) {
      const code = certificate.verifyError ?? 'UNKNOWN';
      throw new Unauthenticated(`the client certificate ${CERTIFICATE_PROBLEMS[code] ?? 'is not trusted'} (${code})`, 'certificate-refused');
    }
    const workload = workloadFromSans(certificate.subjectAltName, this.options.trustDomain);
    if (!workload.ok) throw new Unauthenticated(workload.problem, 'certificate-refused');
    return { subject: workload.spiffeId, tenantId: workload.tenantId, systemId: workload.systemId };
  }

  private async tokenIdentity(authorization: string): Promise<WorkloadIdentity> {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization);
    if (!match) throw new Unauthenticated('the Authorization header must be "Bearer <token>"', 'malformed-authorization-header');
    const token = match[1];
    const hit = this.cache.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit.identity;
    if (hit) this.cache.delete(token);
    let principal;
    try {
      principal = await this.registry.verify(token);
    } catch (error) {
      throw new Unauthenticated(error instanceof AuthenticationError ? error.reason : 'token could not be verified', error instanceof TokenRefused ? error.code : 'malformed');
    }
    const mapping = this.registry.workloadMapping(principal.issuer);
    const tenantScope = principal.actor.tenantScope;
    if (tenantScope?.length !== 1) throw new Unauthenticated(`token must name exactly one tenant (claim ${this.options.defaultClaims.tenant} unless its issuer configures another)`, 'invalid-claims');
    let systemId: string | undefined;
    if (principal.kind === 'workload') systemId = principal.systemId;
    else if (!mapping) {
      // Issuers configured without a workload mapping (JwtVerifier, embedded mode) name the system in a default claim.
      const value = decodeJwt(token)[this.options.defaultClaims.system];
      systemId = typeof value === 'string' && value.length > 0 ? value : undefined;
    }
    if (!systemId) throw new Unauthenticated(`token must name the system it acts for (claim ${mapping?.systemClaim ?? this.options.defaultClaims.system})`, 'invalid-claims');
    const identity: WorkloadIdentity = { subject: principal.actor.subject, tenantId: tenantScope[0], systemId };
    if (this.cache.size >= WorkloadAuthenticator.CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(token, { identity, expiresAt: principal.expiresAt });
    return identity;
  }
}
