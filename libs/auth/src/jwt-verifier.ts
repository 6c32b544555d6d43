import type { JSONWebKeySet } from 'jose';
import type { Actor } from '@cmk/domain';
import { IssuerRegistry, IssuerRegistryOptions } from './issuer-registry';
import type { RoleName } from './roles';

export { AuthenticationError, TokenRefused } from './auth.errors';

export interface JwtVerifierConfig {
  issuer: string;
  audience: string;
  /** Remote JWKS URL, or a local key set (embedded mode). */
  jwksUrl?: string;
  jwks?: JSONWebKeySet;
  /** Claim holding roles (array or space-separated string). Dotted paths are allowed: `realm_access.roles`. */
  rolesClaim: string;
  /** Claim holding the tenant id(s) the subject is limited to. */
  tenantClaim: string;
  clockToleranceSeconds: number;
  /** Optional mapping from IdP group/role names to CMK roles. Unmapped names that are CMK roles pass through. */
  roleMapping?: Record<string, RoleName>;
}

/**
 * Verifies bearer JWTs to an Actor: the single-issuer face of IssuerRegistry, kept for callers that configure one
 * issuer. Pass a registry to accept several. Refusals are TokenRefused (an AuthenticationError) with a stable code.
 */
export class JwtVerifier {
  readonly registry: IssuerRegistry;

  constructor(config: JwtVerifierConfig | IssuerRegistry, options?: IssuerRegistryOptions) {
    if (config instanceof IssuerRegistry) {
      this.registry = config;
      return;
    }
    if (!config.jwks && !config.jwksUrl) throw new Error('JwtVerifier needs jwksUrl or jwks');
    this.registry = new IssuerRegistry([{ ...config, ...(config.jwks ? { jwksUrl: undefined } : {}) }], options);
  }

  async verify(token: string): Promise<Actor> {
    return (await this.registry.verify(token)).actor;
  }

  close(): void {
    this.registry.close();
  }
}
