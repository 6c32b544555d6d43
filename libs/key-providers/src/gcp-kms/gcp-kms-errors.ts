import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  AccessDeniedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';

export interface GcpErrorContext {
  operation: string;
  keyRef?: string;
}

/**
 * A response that failed Cloud KMS's end-to-end integrity check (a CRC32C that does not match, or a request
 * checksum the service did not confirm): bytes changed in transit. Google's guidance is a limited number of
 * retries; it is transient, never an answer about the key or the ciphertext.
 */
export class GcpKmsIntegrityError extends Error {
  constructor(readonly field: string) {
    super(`Cloud KMS integrity check failed on ${field}`);
    this.name = 'GcpKmsIntegrityError';
  }
}

const CODE_NAMES = new Map<number, string>(
  Object.entries(GrpcStatus)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

const TRANSIENT = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
]);

/** What the adapter reads of a gRPC / google-gax error: the numeric code, and the text only to classify it. */
interface GrpcErrorShape {
  code?: unknown;
  details?: unknown;
}

export function grpcCode(e: unknown): number | undefined {
  const code = (e as GrpcErrorShape | undefined)?.code;
  return typeof code === 'number' && CODE_NAMES.has(code) ? code : undefined;
}

/** The gRPC status name (`NOT_FOUND`, ...) or `CRC32C_MISMATCH`: safe to log, never the provider's text. */
export function gcpErrorCode(e: unknown): string {
  if (e instanceof GcpKmsIntegrityError) return 'CRC32C_MISMATCH';
  if (e instanceof KeyProviderError) return e.details.providerCode ?? e.code;
  const code = grpcCode(e);
  return code === undefined ? 'UnknownError' : CODE_NAMES.get(code)!;
}

/**
 * Cloud KMS answers a request whose own checksum did not match with INVALID_ARGUMENT naming the `*_crc32c`
 * field; the text is only read to recognise that case, never passed on.
 */
function isRequestChecksumMismatch(e: unknown): boolean {
  const text = (e as GrpcErrorShape | undefined)?.details;
  return grpcCode(e) === GrpcStatus.INVALID_ARGUMENT && typeof text === 'string' && /crc32c/i.test(text) && /checksum/i.test(text);
}

/** Transient: the same call may succeed later without anyone changing anything. Only these are retried. */
export function isTransientGcpError(e: unknown): boolean {
  if (e instanceof KeyProviderError) return e instanceof ProviderUnavailableError;
  if (e instanceof GcpKmsIntegrityError || isRequestChecksumMismatch(e)) return true;
  const code = grpcCode(e);
  // No gRPC status at all: the failure happened before a call was made (the channel), not in Cloud KMS.
  return code === undefined ? true : TRANSIENT.has(code);
}

/**
 * Maps a Cloud KMS failure to the typed errors of the port. Messages carry the operation, the key reference and
 * the gRPC status name only: Cloud KMS's own text names resources and permissions, and a stand-in's or proxy's
 * text could echo anything, so it is dropped.
 */
export function toKeyProviderError(e: unknown, ctx: GcpErrorContext): KeyProviderError {
  if (e instanceof KeyProviderError) return e;
  const providerCode = gcpErrorCode(e);
  const details = { operation: ctx.operation, keyRef: ctx.keyRef, providerCode };
  const where = ctx.keyRef ? `${ctx.operation} ${ctx.keyRef}` : ctx.operation;
  if (isTransientGcpError(e)) return new ProviderUnavailableError(`Cloud KMS is unavailable: ${where} (${providerCode})`, details);
  switch (grpcCode(e)) {
    case GrpcStatus.NOT_FOUND:
      return new KeyNotFoundError(`Cloud KMS key not found: ${where} (${providerCode})`, details);
    case GrpcStatus.FAILED_PRECONDITION:
      return new KeyDisabledError(`Cloud KMS key version may not ${ctx.operation} in its current state: ${where} (${providerCode})`, details);
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.UNAUTHENTICATED:
      return new AccessDeniedError(`Cloud KMS refused the caller: ${where} (${providerCode})`, details);
    case GrpcStatus.INVALID_ARGUMENT:
      // Decrypt's only argument the caller does not control is the ciphertext: it did not authenticate.
      if (ctx.operation === 'unwrap') return new InvalidCiphertextError(`ciphertext does not verify under ${ctx.keyRef ?? 'the key'} (${providerCode})`, details);
      return new UnsupportedOperationError(`Cloud KMS refused ${where} as made (${providerCode})`, details);
    default:
      return new UnsupportedOperationError(`Cloud KMS cannot ${where} (${providerCode})`, details);
  }
}
