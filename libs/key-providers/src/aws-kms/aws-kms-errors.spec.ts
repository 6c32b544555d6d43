import {
  DisabledException,
  ExpiredImportTokenException,
  IncorrectKeyException,
  IncorrectKeyMaterialException,
  InvalidCiphertextException,
  InvalidImportTokenException,
  KMSInternalException,
  KMSInvalidStateException,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import {
  AccessDeniedError,
  ImportRefusedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { awsErrorCode, isTransientAwsError, toImportError, toKeyProviderError } from './aws-kms-errors';

const REF = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const $metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
/** A modeled or generic service error as the SDK builds it from a `__type` body (the message is the service's text). */
const service = (name: string, status = 400, message = `echo of a request field: ${SECRET}`) =>
  new KMSServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, ...$metadata(status) });
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('AWS KMS error mapping (unit, SDK exception classes)', () => {
  it.each([
    ['NotFoundException', new NotFoundException({ message: SECRET, ...$metadata(400) }), KeyNotFoundError],
    ['DisabledException', new DisabledException({ message: SECRET, ...$metadata(400) }), KeyDisabledError],
    ['KMSInvalidStateException', new KMSInvalidStateException({ message: SECRET, ...$metadata(400) }), KeyDisabledError],
    ['InvalidCiphertextException', new InvalidCiphertextException({ message: SECRET, ...$metadata(400) }), InvalidCiphertextError],
    ['IncorrectKeyException', new IncorrectKeyException({ message: SECRET, ...$metadata(400) }), InvalidCiphertextError],
    ['AccessDeniedException', service('AccessDeniedException'), AccessDeniedError],
    ['UnrecognizedClientException', service('UnrecognizedClientException'), AccessDeniedError],
    ['InvalidSignatureException', service('InvalidSignatureException'), AccessDeniedError],
    ['ExpiredTokenException', service('ExpiredTokenException'), AccessDeniedError],
    ['InvalidKeyUsageException', service('InvalidKeyUsageException'), UnsupportedOperationError],
    ['ValidationException', service('ValidationException'), UnsupportedOperationError],
    ['ThrottlingException', service('ThrottlingException'), ProviderUnavailableError],
    ['KMSInternalException', new KMSInternalException({ message: SECRET, ...$metadata(500) }), ProviderUnavailableError],
    ['an unparseable 503', Object.assign(new SyntaxError(SECRET), $metadata(503)), ProviderUnavailableError],
    ['an unparseable 501 (operation not implemented)', Object.assign(new SyntaxError(SECRET), $metadata(501)), UnsupportedOperationError],
  ])('%s maps to the typed error and never carries the service message', (_what, error, type) => {
    const mapped = toKeyProviderError(error, { operation: 'wrap', keyRef: REF });
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.details).toMatchObject({ operation: 'wrap', keyRef: REF });
    expect(`${mapped.message} ${JSON.stringify(mapped.details)}`).not.toContain(SECRET);
  });

  it('retries only transient failures: throttling, 5xx (not 501), socket errors and transport failures without a response', () => {
    expect(isTransientAwsError(service('ThrottlingException'))).toBe(true);
    expect(isTransientAwsError(service('KMSInternalException', 500))).toBe(true);
    expect(isTransientAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: {} }))).toBe(true);
    expect(isTransientAwsError(Object.assign(new Error('AWS SDK error wrapper for Error: read ECONNRESET'), { $metadata: { attempts: 1 } }))).toBe(true);
    expect(isTransientAwsError(Object.assign(new SyntaxError('x'), $metadata(501)))).toBe(false);
    for (const name of ['AccessDeniedException', 'NotFoundException', 'DisabledException', 'InvalidCiphertextException', 'ValidationException']) {
      expect({ name, transient: isTransientAwsError(service(name)) }).toEqual({ name, transient: false });
    }
    expect(isTransientAwsError(new KeyNotFoundError('x'))).toBe(false);
    expect(isTransientAwsError(new TypeError('a bug, not an outage'))).toBe(false);
  });

  it('names socket failures by their code, also when the SDK wrapped the error and dropped the code', () => {
    expect(awsErrorCode(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toBe('ETIMEDOUT');
    expect(awsErrorCode(Object.assign(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9'), { $metadata: {} }))).toBe('ECONNREFUSED');
    expect(awsErrorCode(Object.assign(new Error('AWS SDK error wrapper for Error: EVIL-SECRET'), { $metadata: {} }))).toBe('Error');
    expect(awsErrorCode({ name: `Bad name with spaces ${SECRET}` })).toBe('UnknownError');
  });

  it('names the import refusal rule from the ImportKeyMaterial exception', () => {
    const rule = (e: unknown, firstImport = true) => {
      const mapped = toImportError(e, { operation: 'importKeyMaterial', keyRef: REF, firstImport });
      expect(mapped).toBeInstanceOf(ImportRefusedError);
      expect(mapped.message).not.toContain(SECRET);
      return (mapped as ImportRefusedError).rule;
    };
    expect(rule(new ExpiredImportTokenException({ message: SECRET, ...$metadata(400) }))).toBe('expired');
    expect(rule(new InvalidImportTokenException({ message: SECRET, ...$metadata(400) }))).toBe('mismatch');
    expect(rule(new InvalidCiphertextException({ message: SECRET, ...$metadata(400) }))).toBe('corrupted');
    expect(rule(new IncorrectKeyMaterialException({ message: SECRET, ...$metadata(400) }), true)).toBe('key-size');
    expect(rule(new IncorrectKeyMaterialException({ message: SECRET, ...$metadata(400) }), false)).toBe('mismatch');
    expect(rule(new KMSInvalidStateException({ message: SECRET, ...$metadata(400) }))).toBe('state');
    expect(toImportError(service('ThrottlingException'), { operation: 'importKeyMaterial', keyRef: REF, firstImport: true })).toBeInstanceOf(ProviderUnavailableError);
    expect(toImportError(service('AccessDeniedException'), { operation: 'importKeyMaterial', keyRef: REF, firstImport: true })).toBeInstanceOf(AccessDeniedError);
  });
});
