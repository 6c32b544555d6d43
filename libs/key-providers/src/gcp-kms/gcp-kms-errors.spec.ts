import { status } from '@grpc/grpc-js';
import {
  AccessDeniedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { GcpKmsIntegrityError, isTransientGcpError, toKeyProviderError } from './gcp-kms-errors';

const grpcError = (code: number, details = 'provider text that must not travel') => Object.assign(new Error(details), { code, details });
const ctx = { operation: 'wrap', keyRef: 'projects/p-12345/locations/eu/keyRings/r/cryptoKeys/k' };

describe('Cloud KMS error mapping', () => {
  it.each([
    [status.NOT_FOUND, KeyNotFoundError],
    [status.FAILED_PRECONDITION, KeyDisabledError],
    [status.PERMISSION_DENIED, AccessDeniedError],
    [status.UNAUTHENTICATED, AccessDeniedError],
    [status.INVALID_ARGUMENT, UnsupportedOperationError],
    [status.UNIMPLEMENTED, UnsupportedOperationError],
    [status.UNAVAILABLE, ProviderUnavailableError],
    [status.DEADLINE_EXCEEDED, ProviderUnavailableError],
    [status.RESOURCE_EXHAUSTED, ProviderUnavailableError],
    [status.INTERNAL, ProviderUnavailableError],
  ])('maps gRPC status %s to %p with the status name and without the provider text', (code, type) => {
    const error = toKeyProviderError(grpcError(code), ctx);
    expect(error).toBeInstanceOf(type);
    expect(error.details).toMatchObject({ operation: 'wrap', keyRef: ctx.keyRef, providerCode: status[code] });
    expect(error.message).not.toContain('provider text');
  });

  it('reads INVALID_ARGUMENT on unwrap as a ciphertext that does not verify, unless it is a request checksum mismatch', () => {
    expect(toKeyProviderError(grpcError(status.INVALID_ARGUMENT), { ...ctx, operation: 'unwrap' })).toBeInstanceOf(InvalidCiphertextError);
    const checksum = grpcError(status.INVALID_ARGUMENT, 'The checksum in field ciphertext_crc32c did not match the data in field ciphertext.');
    expect(isTransientGcpError(checksum)).toBe(true);
    expect(toKeyProviderError(checksum, { ...ctx, operation: 'unwrap' })).toBeInstanceOf(ProviderUnavailableError);
  });

  it('treats integrity failures and errors without a status as transient, typed errors other than unavailable as final', () => {
    expect(isTransientGcpError(new GcpKmsIntegrityError('ciphertext_crc32c'))).toBe(true);
    expect(toKeyProviderError(new GcpKmsIntegrityError('ciphertext_crc32c'), ctx).details.providerCode).toBe('CRC32C_MISMATCH');
    expect(isTransientGcpError(new Error('socket hang up'))).toBe(true);
    expect(isTransientGcpError(new KeyNotFoundError('x'))).toBe(false);
    expect(isTransientGcpError(grpcError(status.PERMISSION_DENIED))).toBe(false);
  });
});
