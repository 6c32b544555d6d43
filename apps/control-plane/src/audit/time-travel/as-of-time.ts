import { isISO8601 } from 'class-validator';
import { ProblemError } from '../../http/problem';

/** The `at` query parameter: an ISO 8601 time, not in the future (the log cannot answer for it yet). */
export function parseAsOfTime(value: unknown, now = new Date()): Date {
  if (typeof value !== 'string' || !isISO8601(value, { strict: true }) || Number.isNaN(Date.parse(value))) {
    throw invalidAt('at must be an ISO 8601 time like 2026-11-28T12:00:00Z');
  }
  const at = new Date(value);
  if (at.getTime() > now.getTime()) throw invalidAt(`at must not be in the future (now is ${now.toISOString()})`);
  return at;
}

function invalidAt(message: string): ProblemError {
  return new ProblemError(400, 'validation-error', 'Request validation failed', `at: ${message}`, { errors: [{ field: 'at', message }] });
}

export class TenantNotYetError extends ProblemError {
  constructor(tenantId: string, at: Date) {
    super(404, 'tenant-not-found', 'Tenant not found at that time', `tenant ${tenantId} did not exist yet at ${at.toISOString()} (no onboarding recorded at or before it)`, { field: 'tenantId' });
  }
}
