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
