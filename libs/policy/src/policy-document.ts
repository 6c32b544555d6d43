/**
 * Policy documents are data. This is the model the core needs (issue: event-sourced core); the full
 * engine grows from it. Every field is optional: an empty document constrains nothing.
 */
export const POLICY_ALGORITHMS = ['AES', 'RSA', 'EC'] as const;
export type PolicyAlgorithm = (typeof POLICY_ALGORITHMS)[number];

export interface PolicyDocument {
  keyStrength?: {
    /** Algorithms a key link may use. */
    allowedAlgorithms?: PolicyAlgorithm[];
    /** Minimum key size in bits per algorithm (EC: curve size). */
    minimumBits?: Partial<Record<PolicyAlgorithm, number>>;
  };
  rotation?: {
    /** Maximum age of a key before it must be rotated. */
    maxAgeDays?: number;
    /** Days before the maximum age when a warning is raised. */
    warningDays?: number;
    /**
     * Maximum age of a link's current tenant key (L2) version before the scheduler rotates it. Counted from the
     * request that created the version (version 1: from the link's activation). Absent: L2 keys have no age limit
     * (`maxAgeDays` governs L1 keys only, so documents written before this field keep their meaning).
     */
    tenantKeyMaxAgeDays?: number;
    /** Days before `tenantKeyMaxAgeDays` when a warning is raised. */
    tenantKeyWarningDays?: number;
  };
  geofence?: {
    /** Regions where keys of tenants in a jurisdiction may be unwrapped, e.g. { EU: ['eu-central-1'] }. */
    unwrapRegions?: Record<string, string[]>;
    /** Regions where the root of trust (L1 key) of tenants in a jurisdiction may live, e.g. { EU: ['eu-central-1'] }. */
    rootOfTrustRegions?: Record<string, string[]>;
  };
  providers?: {
    /** Provider kinds a key link may use, e.g. ['pkcs11', 'aws-kms']. */
    allowedKinds?: string[];
  };
  failClosed?: {
    /** Regional workers deny a tenant's requests after this long without hearing from the mesh (100..60,000 ms). */
    maxStalenessMs?: number;
  };
  approvals?: {
    /**
     * Distinct approvers, besides the initiator, each action needs (four eyes: 1 or more). Absent actions keep
     * their default ({@link DEFAULT_APPROVALS}); 0 means no approval. Stopping stays easy: revocations and the
     * kill switch are not in the list and never wait for anyone.
     */
    required?: Partial<Record<ApprovalAction, number>>;
    /** How long an approval request waits for its quorum before it expires (hours, 1..720; default 168). */
    expiryHours?: number;
  };
  hyokHealth?: {
    /**
     * What a key problem found by a health sync triggers (disabled, deleted, access denied, key replaced at the
     * provider): `warn` records it, `revoke` also revokes the link. A provider that is merely unreachable only
     * warns. Default `warn`.
     */
    onProblem?: 'warn' | 'revoke';
  };
}

/** The actions whose approval policy decides; revocation and the kill switch are deliberately absent. */
export const APPROVAL_ACTIONS = ['key-link.link', 'key-link.restore', 'key-link.unlink', 'key-link.rotate', 'tenant.offboard', 'tenant.suspend', 'policy.change'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];
/** Resuming must be hard: these need two approvers unless a policy says otherwise. */
export const DEFAULT_APPROVALS: Readonly<Record<ApprovalAction, number>> = {
  'key-link.link': 0,
  'key-link.restore': 2,
  'key-link.unlink': 2,
  'key-link.rotate': 0,
  'tenant.offboard': 2,
  'tenant.suspend': 0,
  'policy.change': 2,
};
export const DEFAULT_APPROVAL_EXPIRY_HOURS = 168;

/** The workers' fail-closed bound when no policy in force sets one. */
export const DEFAULT_MAX_STALENESS_MS = 2000;

export interface PolicyFieldError {
  /** JSON path of the offending field, e.g. `$.keyStrength.minimumBits.RSA`. */
  path: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const REGION = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function checkKeys(obj: Record<string, unknown>, allowed: string[], path: string, errors: PolicyFieldError[]): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key)) errors.push({ path: `${path}.${key}`, message: `unknown field; allowed: ${allowed.join(', ')}` });
}

function positiveInt(v: unknown, path: string, errors: PolicyFieldError[], max = 100000): void {
  if (v !== undefined && (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > max))
    errors.push({ path, message: `must be a positive integer up to ${max}` });
}

function regionsByJurisdiction(value: unknown, path: string, errors: PolicyFieldError[]): void {
  if (value === undefined) return;
  if (!isObject(value)) {
    errors.push({ path, message: 'must be an object keyed by jurisdiction' });
    return;
  }
  for (const [jurisdiction, regions] of Object.entries(value)) {
    const at = `${path}.${jurisdiction}`;
    if (!Array.isArray(regions) || regions.length === 0) errors.push({ path: at, message: 'must be a non-empty array of regions' });
    else
      regions.forEach((region, i) => {
        if (typeof region !== 'string' || !REGION.test(region)) errors.push({ path: `${at}[${i}]`, message: 'must be a region name like eu-central-1' });
      });
  }
}

/** Structural and semantic validation; returns every problem found, each with its path. */
export function validatePolicyDocument(doc: unknown): PolicyFieldError[] {
  const errors: PolicyFieldError[] = [];
  if (!isObject(doc)) return [{ path: '$', message: 'a policy document must be a JSON object' }];
  checkKeys(doc, ['keyStrength', 'rotation', 'geofence', 'providers', 'failClosed', 'approvals', 'hyokHealth'], '$', errors);

  if (doc.keyStrength !== undefined) {
    const ks = doc.keyStrength;
    if (!isObject(ks)) errors.push({ path: '$.keyStrength', message: 'must be an object' });
    else {
      checkKeys(ks, ['allowedAlgorithms', 'minimumBits'], '$.keyStrength', errors);
      if (ks.allowedAlgorithms !== undefined) {
        if (!Array.isArray(ks.allowedAlgorithms) || ks.allowedAlgorithms.length === 0)
          errors.push({ path: '$.keyStrength.allowedAlgorithms', message: 'must be a non-empty array' });
        else
          ks.allowedAlgorithms.forEach((a, i) => {
            if (!POLICY_ALGORITHMS.includes(a as PolicyAlgorithm))
              errors.push({ path: `$.keyStrength.allowedAlgorithms[${i}]`, message: `must be one of ${POLICY_ALGORITHMS.join(', ')}` });
          });
      }
      if (ks.minimumBits !== undefined) {
        if (!isObject(ks.minimumBits)) errors.push({ path: '$.keyStrength.minimumBits', message: 'must be an object' });
        else {
          checkKeys(ks.minimumBits, [...POLICY_ALGORITHMS], '$.keyStrength.minimumBits', errors);
          for (const [alg, bits] of Object.entries(ks.minimumBits)) positiveInt(bits, `$.keyStrength.minimumBits.${alg}`, errors, 16384);
        }
      }
    }
  }

  if (doc.rotation !== undefined) {
    const r = doc.rotation;
    if (!isObject(r)) errors.push({ path: '$.rotation', message: 'must be an object' });
    else {
      checkKeys(r, ['maxAgeDays', 'warningDays', 'tenantKeyMaxAgeDays', 'tenantKeyWarningDays'], '$.rotation', errors);
      for (const [max, warning] of [['maxAgeDays', 'warningDays'], ['tenantKeyMaxAgeDays', 'tenantKeyWarningDays']] as const) {
        positiveInt(r[max], `$.rotation.${max}`, errors, 3650);
        positiveInt(r[warning], `$.rotation.${warning}`, errors, 3650);
        if (typeof r[max] === 'number' && typeof r[warning] === 'number' && (r[warning] as number) >= (r[max] as number))
          errors.push({ path: `$.rotation.${warning}`, message: `must be smaller than ${max}` });
      }
    }
  }

  if (doc.geofence !== undefined) {
    const g = doc.geofence;
    if (!isObject(g)) errors.push({ path: '$.geofence', message: 'must be an object' });
    else {
      checkKeys(g, ['unwrapRegions', 'rootOfTrustRegions'], '$.geofence', errors);
      for (const field of ['unwrapRegions', 'rootOfTrustRegions'] as const) regionsByJurisdiction(g[field], `$.geofence.${field}`, errors);
    }
  }

  if (doc.providers !== undefined) {
    const p = doc.providers;
    if (!isObject(p)) errors.push({ path: '$.providers', message: 'must be an object' });
    else {
      checkKeys(p, ['allowedKinds'], '$.providers', errors);
      if (p.allowedKinds !== undefined) {
        if (!Array.isArray(p.allowedKinds) || p.allowedKinds.length === 0) errors.push({ path: '$.providers.allowedKinds', message: 'must be a non-empty array' });
        else
          p.allowedKinds.forEach((kind, i) => {
            if (typeof kind !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(kind)) errors.push({ path: `$.providers.allowedKinds[${i}]`, message: 'must be a provider kind like pkcs11 or aws-kms' });
          });
      }
    }
  }

  if (doc.failClosed !== undefined) {
    const f = doc.failClosed;
    if (!isObject(f)) errors.push({ path: '$.failClosed', message: 'must be an object' });
    else {
      checkKeys(f, ['maxStalenessMs'], '$.failClosed', errors);
      const ms = f.maxStalenessMs;
      if (ms !== undefined && (!Number.isInteger(ms) || (ms as number) < 100 || (ms as number) > 60000))
        errors.push({ path: '$.failClosed.maxStalenessMs', message: 'must be an integer from 100 to 60000 (milliseconds)' });
    }
  }

  if (doc.approvals !== undefined) {
    const a = doc.approvals;
    if (!isObject(a)) errors.push({ path: '$.approvals', message: 'must be an object' });
    else {
      checkKeys(a, ['required', 'expiryHours'], '$.approvals', errors);
      if (a.required !== undefined) {
        if (!isObject(a.required)) errors.push({ path: '$.approvals.required', message: 'must be an object keyed by action' });
        else
          for (const [action, count] of Object.entries(a.required)) {
            const at = `$.approvals.required.${action}`;
            if (action === 'key-link.revoke' || action === 'kill-switch.fire') errors.push({ path: at, message: 'stopping must stay easy: revocations and the kill switch never wait for approval' });
            else if (!(APPROVAL_ACTIONS as readonly string[]).includes(action)) errors.push({ path: at, message: `unknown action; allowed: ${APPROVAL_ACTIONS.join(', ')}` });
            else if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > 10) errors.push({ path: at, message: 'must be an integer from 0 to 10 (approvers besides the initiator)' });
          }
      }
      const hours = a.expiryHours;
      if (hours !== undefined && (!Number.isInteger(hours) || (hours as number) < 1 || (hours as number) > 720))
        errors.push({ path: '$.approvals.expiryHours', message: 'must be an integer from 1 to 720 (hours)' });
    }
  }

  if (doc.hyokHealth !== undefined) {
    const h = doc.hyokHealth;
    if (!isObject(h)) errors.push({ path: '$.hyokHealth', message: 'must be an object' });
    else {
      checkKeys(h, ['onProblem'], '$.hyokHealth', errors);
      if (h.onProblem !== undefined && h.onProblem !== 'warn' && h.onProblem !== 'revoke') errors.push({ path: '$.hyokHealth.onProblem', message: 'must be warn or revoke' });
    }
  }
  return errors;
}
