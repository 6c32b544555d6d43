import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Optional } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { DomainError, PolicyViolationError } from '@cmk/domain';
import { ConcurrencyError } from '@cmk/event-store';
import { AuthenticationError, TenantAccessDenied } from '@cmk/auth';
import { InvalidCursorError, ProjectionNotOwnedError } from '@cmk/read-models';
import { PROBLEM_BASE, Problem, ProblemError } from './problem';
import { providerProblem } from './provider-problems';
import { logger } from '../infrastructure/logger';
import { deniedAttemptOf } from './denied-attempts/denied-attempt';
import { DENIED_ATTEMPTS, DeniedAttemptsRecorder } from './denied-attempts/denied-attempts.recorder';

const DOMAIN_STATUS: Record<DomainError['kind'], [number, string, string]> = {
  'not-found': [404, 'not-found', 'Resource not found'],
  'invalid-state': [409, 'invalid-state', 'The resource is not in a state that allows this command'],
  validation: [400, 'validation-error', 'Request validation failed'],
  policy: [422, 'policy-violation', 'Refused by policy'],
};

/** Maps every error to problem+json at the edge. Unknown errors become a bare 500: no stack, no internals. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(DENIED_ATTEMPTS) private readonly denied?: DeniedAttemptsRecorder) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const { problem, headers } = toProblem(error);
    if (this.denied && (problem.status === 401 || problem.status === 403)) {
      const attempt = deniedAttemptOf(error, req, new Date());
      if (attempt) this.denied.record(attempt);
    }
    problem.instance = req.originalUrl?.split('?')[0];
    problem.correlationId = (req as Request & { correlationId?: string }).correlationId;
    if (problem.status >= 500) logger.error({ err: error, correlationId: problem.correlationId, path: problem.instance }, 'request failed');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}

export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof ProblemError) {
    return {
      problem: { type: PROBLEM_BASE + error.slug, title: error.title, status: error.status, detail: error.message, ...error.extensions },
      headers: error.headers,
    };
  }
  if (error instanceof PolicyViolationError) {
    return {
      problem: {
        type: PROBLEM_BASE + 'policy-violation',
        title: 'Refused by policy',
        status: 422,
        detail: error.message,
        code: error.code,
        violations: error.violations,
      },
      headers: {},
    };
  }
  if (error instanceof DomainError) {
    const [status, slug, title] = DOMAIN_STATUS[error.kind];
    const { field, errors, ...raw } = error.details as { field?: string; errors?: unknown } & Record<string, unknown>;
    const details = withoutProblemMembers(raw);
    return {
      problem: {
        type: PROBLEM_BASE + slug,
        title,
        status,
        detail: error.message,
        code: error.code,
        ...(error.kind === 'validation'
          ? {
              errors: errors
                ? (errors as { field?: string; path?: string; message: string }[]).map((e) => ({ field: e.field ?? e.path ?? error.code, ...e }))
                : [{ field: field ?? error.code, message: error.message }],
            }
          : {}),
        ...details,
      },
      headers: {},
    };
  }
  if (error instanceof ConcurrencyError) {
    return {
      problem: {
        type: PROBLEM_BASE + 'concurrency-conflict',
        title: 'Concurrent modification',
        status: 409,
        detail: `${error.streamName} was changed by another command (now at revision ${error.actual}); reload and retry`,
        currentRevision: error.actual,
      },
      headers: {},
    };
  }
  if (error instanceof AuthenticationError) {
    return {
      problem: { type: PROBLEM_BASE + 'unauthenticated', title: 'Authentication required', status: 401, detail: error.reason },
      headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${error.reason.replace(/"/g, "'")}"` },
    };
  }
  if (error instanceof ProjectionNotOwnedError) {
    return { problem: { type: PROBLEM_BASE + 'projection.busy', title: 'Projection busy', status: 409, detail: `${error.message}; retry when the other rebuild or owner is done` }, headers: {} };
  }
  if (error instanceof InvalidCursorError) {
    return {
      problem: { type: PROBLEM_BASE + 'validation-error', title: 'Request validation failed', status: 400, detail: error.message, errors: [{ field: 'cursor', message: error.message }] },
      headers: {},
    };
  }
  const provider = providerProblem(error);
  if (provider) return provider;
  if (error instanceof TenantAccessDenied) {
    return { problem: { type: PROBLEM_BASE + 'forbidden', title: 'Forbidden', status: 403, detail: error.message }, headers: {} };
  }
  if (error instanceof HttpException) {
    const httpError: HttpException = error;
    const status = httpError.getStatus();
    const body = httpError.getResponse();
    const detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? httpError.message);
    const slug =
      status === 404 ? 'not-found' : status === 403 ? 'forbidden' : status === 413 ? 'payload-too-large' : status === 400 ? 'bad-request' : `http-${status}`;
    return { problem: { type: PROBLEM_BASE + slug, title: HttpStatus[status]?.toString().replace(/_/g, ' ').toLowerCase() ?? 'error', status, detail }, headers: {} };
  }
  // body-parser errors (malformed JSON, too large) carry a status and an `expose` flag.
  const e = error as { status?: number; type?: string; expose?: boolean };
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    const slug = e.type === 'entity.parse.failed' ? 'malformed-json' : e.status === 413 ? 'payload-too-large' : 'bad-request';
    const detail = e.type === 'entity.parse.failed' ? 'the request body is not valid JSON' : 'the request body was refused';
    return { problem: { type: PROBLEM_BASE + slug, title: 'Bad request', status: e.status, detail }, headers: {} };
  }
  return { problem: { type: PROBLEM_BASE + 'internal', title: 'Internal error', status: 500, detail: 'an unexpected error occurred; it has been logged' }, headers: {} };
}

const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'correlationId']);

/**
 * Domain details become extension members, but never over RFC 9457's own: a link's `status: 'revoked'` once
 * replaced the HTTP status and the response could not be sent at all. A colliding detail is kept as `resourceStatus`.
 */
function withoutProblemMembers(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).map(([k, v]) => (PROBLEM_MEMBERS.has(k) ? [`resource${k[0].toUpperCase()}${k.slice(1)}`, v] : [k, v])));
}

/** Express error middleware for the JSON body parser, which runs before Nest sees the request. */
export function bodyParserProblems(error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (!error) return next();
  const { problem } = toProblem(error);
  problem.instance = req.originalUrl?.split('?')[0];
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}
