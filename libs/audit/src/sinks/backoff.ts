/**
 * Exponential back-off with jitter. Jitter spreads the retries of many runners (and many control-plane replicas)
 * so a SIEM coming back from an outage is not hit by all of them in the same instant.
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  multiplier: number;
  /** Fraction of the delay that is randomised: 0 = none, 1 = "full jitter" (uniform between 0 and the delay). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 60_000, multiplier: 2, jitter: 0.5 };

/** Delay before retry number `attempt` (1 = first retry). `random` returns [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  // Math.pow overflows to Infinity for long outages; min() keeps the cap exact.
  const ceiling = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.multiplier, exponent));
  const jittered = ceiling * (1 - policy.jitter * random());
  return Math.max(0, Math.round(jittered));
}

export function validateBackoff(policy: BackoffPolicy): string | null {
  if (!Number.isFinite(policy.initialMs) || policy.initialMs < 0) return 'initialMs must be a non-negative number';
  if (!Number.isFinite(policy.maxMs) || policy.maxMs < policy.initialMs) return 'maxMs must be at least initialMs';
  if (!Number.isFinite(policy.multiplier) || policy.multiplier < 1) return 'multiplier must be at least 1';
  if (!Number.isFinite(policy.jitter) || policy.jitter < 0 || policy.jitter > 1) return 'jitter must be between 0 and 1';
  return null;
}
