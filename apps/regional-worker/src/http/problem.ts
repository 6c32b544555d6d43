import { isKeyProviderError } from '@cmk/key-providers';
import type { DenialReason } from '@cmk/orbital';
import { BlobAuthenticationError, MalformedBlobError } from '../crypto/envelope';
import { BadRequestError, ProviderNotConfiguredError, RequestDenied, TenantKeyProblem, TenantKeyUnavailable } from '../worker.errors';
import { Unauthenticated } from './workload-auth';

/** Same base as the control plane's problem types. */
export const PROBLEM_BASE = 'https://openkcm.dev/problems/';

export interface WorkerProblem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Machine-readable reason code; the last segment of `type`. */
  reason: string;
  correlationId?: string;
}

export interface MappedProblem {
  problem: WorkerProblem;
  headers: Record<string, string>;
  /** A fault of ours (or of the provider) rather than of the request: logged as an error. */
  fault: boolean;
}

/** Retryable on another worker or shortly: the view is not usable yet (or any more). */
const UNAVAILABLE: ReadonlySet<DenialReason> = new Set(['not-ready', 'stale-view']);

const PROVIDER: Record<string, [number, string, string]> = {
  'provider-unavailable': [503, 'provider-unavailable', 'The key provider is unavailable'],
  'key-disabled': [403, 'l1-key-disabled', 'The tenant key (L1) is disabled at its provider'],
  'key-not-found': [403, 'l1-key-not-found', 'The tenant key (L1) was not found at its provider'],
  'access-denied': [403, 'l1-access-denied', 'The key provider refused access to the tenant key (L1)'],
  'invalid-key-reference': [502, 'l1-key-reference-invalid', 'The key link names a key the provider cannot resolve'],
  'unsupported-operation': [502, 'l1-key-unsupported', 'The tenant key (L1) cannot wrap keys'],
  'invalid-ciphertext': [422, 'invalid-ciphertext', 'The blob does not open for this tenant, system and key'],
};

const TENANT_KEY: Record<TenantKeyProblem, [number, string, string]> = {
  'tenant-key-not-registered': [503, 'A new tenant key (L2) was not registered in time', 'the mesh did not confirm the new L2 key; nothing was sealed under it'],
  'tenant-key-unknown': [503, 'This worker does not know the blob\'s tenant key (L2) yet', 'registrations reach every region with the tenant views; retry shortly'],
  'tenant-key-integrity': [502, 'The tenant key (L2) does not unwrap under the L1 key to its recorded fingerprint', 'the key behind the link\'s reference is not the one the L2 key was wrapped under'],
};

export function toProblem(error: unknown): MappedProblem {
  const make = (status: number, reason: string, title: string, detail?: string, headers: Record<string, string> = {}, fault = false): MappedProblem => ({
    problem: { type: PROBLEM_BASE + reason, title, status, ...(detail ? { detail } : {}), reason },
    headers,
    fault,
  });
  if (error instanceof RequestDenied) {
    return UNAVAILABLE.has(error.reason)
      ? make(503, error.reason, 'This worker cannot decide now', denialDetail(error.reason), { 'Retry-After': '1' })
      : make(403, error.reason, 'Denied by the tenant\'s key policy', denialDetail(error.reason));
  }
  if (error instanceof Unauthenticated) return make(401, 'unauthenticated', 'Authentication required', error.message, { 'WWW-Authenticate': 'Bearer' });
  if (error instanceof BadRequestError) return make(400, 'invalid-request', 'The request is not valid', error.message);
  if (error instanceof MalformedBlobError) return make(400, 'malformed-blob', 'The blob cannot be read', error.message);
  if (error instanceof BlobAuthenticationError) return make(422, 'invalid-ciphertext', 'The blob does not open for this tenant, system and key');
  if (error instanceof TenantKeyUnavailable) {
    const [status, title, detail] = TENANT_KEY[error.problem];
    return make(status, error.problem, title, detail, status === 503 ? { 'Retry-After': '1' } : {}, status >= 500 && status !== 503);
  }
  if (error instanceof ProviderNotConfiguredError) return make(503, 'provider-not-configured', 'This worker cannot reach the key link\'s provider', error.message, {}, true);
  if (isKeyProviderError(error)) {
    const [status, reason, title] = PROVIDER[error.code] ?? [502, 'provider-error', 'The key provider failed'];
    return make(status, reason, title, undefined, status === 503 ? { 'Retry-After': '1' } : {}, status >= 500);
  }
  return make(500, 'internal-error', 'Internal error', undefined, {}, true);
}

function denialDetail(reason: DenialReason): string {
  switch (reason) {
    case 'not-ready':
      return 'the worker is still reading the tenant views';
    case 'stale-view':
      return 'the worker has not heard from the control plane recently enough to trust its view (fail closed)';
    case 'unknown-tenant':
      return 'this region has no view of the tenant';
    case 'tenant-suspended':
      return 'the tenant is suspended';
    case 'tenant-offboarded':
      return 'the tenant is offboarded';
    case 'region-not-allowed':
      return 'the tenant\'s geofence does not include this region';
    case 'unknown-system':
      return 'the system is not registered for the tenant';
    case 'key-link-not-active':
      return 'the key link is not active';
    case 'key-link-revoked':
      return 'the key link is revoked';
  }
}
