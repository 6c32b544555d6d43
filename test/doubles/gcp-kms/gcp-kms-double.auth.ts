import { createHash, generateKeyPairSync, KeyObject, randomBytes, verify } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { GrpcFault } from './gcp-kms-double.errors';

/** The audience Google documents for self-signed JWTs to Cloud KMS. */
export const CLOUD_KMS_AUDIENCE = 'https://cloudkms.googleapis.com/';
const MAX_JWT_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 60;

interface Principal {
  id: string;
  /** Projects this principal holds Cloud KMS roles on. */
  projects: Set<string>;
}

const UNAUTHENTICATED =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';

/**
 * Who may call the double. Two kinds of bearer token are accepted, as Cloud KMS accepts them:
 * - opaque access tokens issued here (standing in for OAuth tokens from Google's token service);
 * - self-signed JWTs of service accounts created here (RS256, `kid` = private_key_id, iss = sub = the account's
 *   email, aud = https://cloudkms.googleapis.com/, at most one hour), verified against the account's public key.
 * An unknown, malformed or expired token is UNAUTHENTICATED; a valid identity without a role on the resource's
 * project is PERMISSION_DENIED, as Cloud KMS answers.
 */
export class DoubleAuth {
  /** By SHA-256 of the token, so a lookup does not compare secrets byte by byte. */
  private readonly accessTokens = new Map<string, Principal>();
  private readonly serviceAccounts = new Map<string, { principal: Principal; keys: Map<string, KeyObject> }>();

  issueAccessToken(id: string, projects: string[]): string {
    const token = `ya29.double-${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(digest(token), { id, projects: new Set(projects) });
    return token;
  }

  revokeAccessToken(token: string): void {
    this.accessTokens.delete(digest(token));
  }

  /** A service account and a fresh key for it, as the JSON key file Google issues (`type: service_account`). */
  createServiceAccountKey(email: string, projects: string[]): string {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    const account = this.serviceAccounts.get(email) ?? { principal: { id: email, projects: new Set<string>() }, keys: new Map<string, KeyObject>() };
    for (const p of projects) account.principal.projects.add(p);
    account.keys.set(keyId, publicKey);
    this.serviceAccounts.set(email, account);
    return JSON.stringify({
      type: 'service_account',
      project_id: projects[0] ?? 'double-project',
      private_key_id: keyId,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    });
  }

  /** Throws UNAUTHENTICATED or PERMISSION_DENIED; returns the caller's id. */
  authorize(metadata: grpc.Metadata, project: string | undefined, permission: string, resource: string): string {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/.exec(header)?.[1] : undefined;
    const principal = token ? (this.accessTokens.get(digest(token)) ?? this.verifyJwt(token)) : undefined;
    if (!principal) throw new GrpcFault(grpc.status.UNAUTHENTICATED, UNAUTHENTICATED);
    if (!project || !principal.projects.has(project)) {
      throw new GrpcFault(grpc.status.PERMISSION_DENIED, `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`);
    }
    return principal.id;
  }

  private verifyJwt(token: string): Principal | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const header = json(parts[0]);
    const claims = json(parts[1]);
    if (!header || !claims || header.alg !== 'RS256' || typeof claims.iss !== 'string' || claims.sub !== claims.iss) return undefined;
    const account = this.serviceAccounts.get(claims.iss);
    const key = typeof header.kid === 'string' ? account?.keys.get(header.kid) : undefined;
    if (!account || !key) return undefined;
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'))) return undefined;
    const now = Math.floor(Date.now() / 1000);
    const { iat, exp } = claims;
    if (claims.aud !== CLOUD_KMS_AUDIENCE || typeof iat !== 'number' || typeof exp !== 'number') return undefined;
    if (iat > now + CLOCK_SKEW_S || exp <= now - CLOCK_SKEW_S || exp - iat > MAX_JWT_LIFETIME_S) return undefined;
    return account.principal;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function json(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
