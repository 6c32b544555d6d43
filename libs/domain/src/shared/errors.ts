/**
 * Typed domain errors. The edge maps `kind` to HTTP (not-found 404, invalid-state 409, validation 400,
 * policy 422); `code` is stable and machine-readable, `message` is for humans and never carries secrets.
 */
export type DomainErrorKind = 'not-found' | 'invalid-state' | 'validation' | 'policy';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) =>
  new DomainError('not-found', `${what}.not-found`, `${what} ${id} does not exist`, { id });

export const invalidState = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new DomainError('invalid-state', code, message, details);

export const invalid = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new DomainError('validation', code, message, details);

/** One violated policy rule: the rule id names it, the message explains it to a human. */
export interface RuleViolation {
  rule: string;
  message: string;
  policyId?: string;
  policyVersion?: number;
}

export class PolicyViolationError extends DomainError {
  constructor(readonly violations: RuleViolation[]) {
    super(
      'policy',
      'policy.violation',
      `Refused by policy: ${violations.map((v) => `${v.rule} (${v.message})`).join('; ')}`,
      { violations },
    );
  }
}
