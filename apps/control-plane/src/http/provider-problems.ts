import { ImportRefusedError, InvalidProviderConfigError, KeyProviderError, KeyProviderErrorCode } from '@cmk/key-providers';
import { ProviderNotConfiguredError } from '../key-links/providers/key-provider-registry';
import { KeyProviderProofFailed } from '../key-links/providers/key-observer';
import { PROBLEM_BASE, Problem } from './problem';

/**
 * Answers from a customer's HSM or KMS, as problems. What the provider refused is the customer's to fix (422,
 * naming the provider's status); a provider that did not answer is 503 with Retry-After (the adapter already
 * retried with back-off where that was safe). Messages come from the adapters, which never echo key material or
 * credentials.
 */
const BY_CODE: Record<KeyProviderErrorCode, [number, string, string]> = {
  'key-not-found': [422, 'provider.key-not-found', 'The key does not exist at the provider'],
  'key-disabled': [422, 'provider.key-disabled', 'The key is disabled at the provider'],
  'access-denied': [422, 'provider.access-denied', 'The provider refused our credentials for this key'],
  'invalid-ciphertext': [422, 'provider.invalid-ciphertext', 'The provider could not decrypt'],
  'invalid-key-reference': [400, 'validation-error', 'The key reference is not valid for this provider'],
  'unsupported-operation': [422, 'provider.unsupported-operation', 'The provider cannot do this for this key'],
  'provider-unavailable': [503, 'provider.unavailable', 'The provider did not answer'],
  'import-refused': [422, 'byok.import-refused', 'The provider refused the key material'],
};

export function providerProblem(error: unknown): { problem: Problem; headers: Record<string, string> } | undefined {
  if (error instanceof ProviderNotConfiguredError)
    return {
      problem: { type: PROBLEM_BASE + 'provider.not-configured', title: 'Provider not configured', status: 422, detail: error.message, code: 'provider.not-configured', providerKind: error.providerKind },
      headers: {},
    };
  if (error instanceof InvalidProviderConfigError)
    return {
      problem: {
        type: PROBLEM_BASE + 'provider.credential-reference',
        title: 'The provider cannot be reached with this link\'s settings',
        status: 422,
        detail: error.message,
        code: 'provider.credential-reference',
        setting: error.setting,
      },
      headers: {},
    };
  if (error instanceof KeyProviderProofFailed)
    return { problem: { type: PROBLEM_BASE + 'provider.proof-failed', title: 'Proof of possession failed', status: 422, detail: error.message, code: 'provider.proof-failed' }, headers: {} };
  if (!(error instanceof KeyProviderError)) return undefined;
  const [status, code, title] = BY_CODE[error.code];
  const problem: Problem = {
    type: PROBLEM_BASE + (status === 400 ? 'validation-error' : code),
    title,
    status,
    detail: error.message,
    code: error instanceof ImportRefusedError ? `byok.${error.rule}` : code,
    ...(error.details.providerCode ? { providerCode: error.details.providerCode } : {}),
    ...(error instanceof ImportRefusedError ? { rule: error.rule } : {}),
    ...(status === 400 ? { errors: [{ field: 'keyReference', message: error.message }] } : {}),
  };
  return { problem, headers: status === 503 ? { 'Retry-After': '5' } : {} };
}
