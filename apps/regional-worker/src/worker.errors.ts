import type { DenialReason } from '@cmk/orbital';

/** The local access decision refused the request; the provider was not (or no longer) involved. */
export class RequestDenied extends Error {
  constructor(readonly reason: DenialReason) {
    super(`denied: ${reason}`);
    this.name = 'RequestDenied';
  }
}

/** The key link names a provider kind this worker has no adapter configured for. */
export class ProviderNotConfiguredError extends Error {
  constructor(readonly providerKind: string) {
    super(`no key provider of kind "${providerKind}" is configured on this worker`);
    this.name = 'ProviderNotConfiguredError';
  }
}

/** A request the API cannot read (body, sizes, encodings). */
export class BadRequestError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'BadRequestError';
  }
}

export type TenantKeyProblem =
  /** A new L2 key was not registered in time (the mesh bridge did not record it, or its view did not come back). */
  | 'tenant-key-not-registered'
  /** A blob names an L2 key this worker's view does not hold (yet: registrations travel with the tenant views). */
  | 'tenant-key-unknown'
  /** A registered L2 key does not unwrap under L1 to its recorded fingerprint (the L1 key behind the reference changed). */
  | 'tenant-key-integrity';

/** The L2 key a request needs cannot be used now. Names the problem, never the key. */
export class TenantKeyUnavailable extends Error {
  constructor(readonly problem: TenantKeyProblem) {
    super(`tenant key unavailable: ${problem}`);
    this.name = 'TenantKeyUnavailable';
  }
}
