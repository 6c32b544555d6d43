/** RFC 9457 problem details. `type` URIs are stable; clients switch on them, humans read title/detail. */
export const PROBLEM_BASE = 'https://openkcm.dev/problems/';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  errors?: FieldError[];
  violations?: { rule: string; message: string; policyId?: string; policyVersion?: number }[];
  correlationId?: string;
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

export class RequestValidationError extends ProblemError {
  constructor(errors: FieldError[]) {
    super(400, 'validation-error', 'Request validation failed', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  }
}

export class PreconditionFailedError extends ProblemError {
  constructor(detail: string, actualRevision: number) {
    super(412, 'precondition-failed', 'If-Match precondition failed', detail, { currentRevision: actualRevision });
  }
}
