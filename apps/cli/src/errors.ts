/** Exit codes, one per error class, so scripts can branch on them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  policy: 5,
  auth: 6,
  unavailable: 7,
  /** A signature, proof or hash chain did not verify: the evidence is not trustworthy. */
  verification: 8,
} as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

interface ProblemBody {
  title?: string;
  detail?: string;
  errors?: { field: string; message: string }[];
  violations?: { rule: string; message: string }[];
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 404) return ExitCode.notFound;
  if (status === 409 || status === 412) return ExitCode.conflict;
  if (status === 422) return ExitCode.policy;
  if (status >= 500) return ExitCode.unavailable;
  if (status === 400) return ExitCode.usage;
  return ExitCode.failure;
}

/** One clear line (plus one per invalid field or violated rule) from a problem+json body. */
export function describeProblem(status: number, body: unknown): string {
  const p = (body && typeof body === 'object' ? body : {}) as ProblemBody;
  const lines = [`error: ${p.title ?? `HTTP ${status}`}${p.detail ? `: ${p.detail}` : ''}`];
  for (const e of p.errors ?? []) lines.push(`  ${e.field}: ${e.message}`);
  for (const v of p.violations ?? []) lines.push(`  ${v.rule}: ${v.message}`);
  return lines.join('\n');
}
