import { ALL_ROLES, RoleName } from './roles';
import { ASYMMETRIC_ALGORITHMS, AsymmetricAlgorithm, isAllowedEndpoint, MAX_CLOCK_TOLERANCE_SECONDS, TrustedIssuerConfig, WorkloadMapping } from './trusted-issuer';

export const TRUSTED_ISSUERS_VARIABLE = 'CMK_AUTH_ISSUERS';

/** A bad CMK_AUTH_ISSUERS; `field` is the JSON path, e.g. `CMK_AUTH_ISSUERS[1].audience`. */
export class IssuerConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'IssuerConfigError';
  }
}

const ISSUER_FIELDS = ['issuer', 'audience', 'jwksUrl', 'algorithms', 'clockToleranceSeconds', 'rolesClaim', 'tenantClaim', 'roleMapping', 'passThroughCmkRoles', 'workload'];
const WORKLOAD_FIELDS = ['systemClaim', 'systems'];
const URL_RULE = 'must be an https URL (plain http only for localhost or 127.0.0.1), without credentials';

/**
 * Reads the trusted issuers from `CMK_AUTH_ISSUERS`, a JSON array with one object per issuer:
 *
 *   [{ "issuer": "https://login.example.com/realms/cmk",        required; matched exactly against `iss`
 *      "audience": "openkcm-cmk" | ["openkcm-cmk", "..."],     required
 *      "jwksUrl": "https://login.example.com/.../certs",       optional; default: OIDC discovery at the issuer
 *      "algorithms": ["RS256", "ES256"],                       optional; asymmetric only; default: all of them
 *      "clockToleranceSeconds": 30,                            optional; 0..300; default 30
 *      "rolesClaim": "realm_access.roles",                     optional; dotted path; default "roles"
 *      "tenantClaim": "cmk_tenant",                            optional; dotted path; default "cmk_tenant"
 *      "roleMapping": { "kms-admins": "key-admin" },           optional; IdP name -> CMK role
 *      "passThroughCmkRoles": true,                            optional; CMK role names count unmapped; default true
 *      "workload": { "systemClaim": "azp",                     optional; see WorkloadMapping
 *                    "systems": { "billing-svc": "sys-billing" } } }]
 *
 * URLs must be https, except plain http to localhost / 127.0.0.1. Unset or blank: `[]`, so the caller can fall
 * back to its single-issuer settings. Anything present is validated completely; the first problem throws an
 * IssuerConfigError naming the field, e.g. `CMK_AUTH_ISSUERS[1].audience: must be a non-empty string or ...`.
 */
export function parseTrustedIssuers(env: Record<string, string | undefined>): TrustedIssuerConfig[] {
  const raw = env[TRUSTED_ISSUERS_VARIABLE];
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new IssuerConfigError(TRUSTED_ISSUERS_VARIABLE, 'is not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new IssuerConfigError(TRUSTED_ISSUERS_VARIABLE, 'must be a non-empty JSON array of issuer objects');
  const seen = new Map<string, number>();
  return parsed.map((item, i) => {
    const config = parseIssuer(item, `${TRUSTED_ISSUERS_VARIABLE}[${i}]`);
    const first = seen.get(config.issuer);
    if (first !== undefined) throw new IssuerConfigError(`${TRUSTED_ISSUERS_VARIABLE}[${i}].issuer`, `repeats ${TRUSTED_ISSUERS_VARIABLE}[${first}].issuer`);
    seen.set(config.issuer, i);
    return config;
  });
}

function parseIssuer(item: unknown, at: string): TrustedIssuerConfig {
  const obj = object(item, at);
  onlyFields(obj, ISSUER_FIELDS, at);
  const issuer = nonEmptyString(obj.issuer, `${at}.issuer`);
  const jwksUrl = obj.jwksUrl === undefined ? undefined : endpoint(obj.jwksUrl, `${at}.jwksUrl`);
  // Without a JWKS URL the keys come from discovery at the issuer URL; an issuer that looks like a URL is held
  // to the same rule either way, since it is where people's browsers are sent to sign in.
  if (jwksUrl === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(issuer)) {
    if (!isAllowedEndpoint(issuer)) throw new IssuerConfigError(`${at}.issuer`, jwksUrl === undefined ? `${URL_RULE} (keys are found by OIDC discovery; give jwksUrl for a non-URL issuer)` : URL_RULE);
    const url = new URL(issuer);
    if (url.search || url.hash) throw new IssuerConfigError(`${at}.issuer`, 'must not have a query or fragment (OpenID Connect Discovery)');
  }
  const config: TrustedIssuerConfig = { issuer, audience: audience(obj.audience, `${at}.audience`) };
  if (jwksUrl !== undefined) config.jwksUrl = jwksUrl;
  if (obj.algorithms !== undefined) config.algorithms = algorithms(obj.algorithms, `${at}.algorithms`);
  if (obj.clockToleranceSeconds !== undefined) config.clockToleranceSeconds = tolerance(obj.clockToleranceSeconds, `${at}.clockToleranceSeconds`);
  if (obj.rolesClaim !== undefined) config.rolesClaim = claimPath(obj.rolesClaim, `${at}.rolesClaim`);
  if (obj.tenantClaim !== undefined) config.tenantClaim = claimPath(obj.tenantClaim, `${at}.tenantClaim`);
  if (obj.roleMapping !== undefined) config.roleMapping = roleMapping(obj.roleMapping, `${at}.roleMapping`);
  if (obj.passThroughCmkRoles !== undefined) {
    if (typeof obj.passThroughCmkRoles !== 'boolean') throw new IssuerConfigError(`${at}.passThroughCmkRoles`, 'must be true or false');
    config.passThroughCmkRoles = obj.passThroughCmkRoles;
  }
  if (obj.workload !== undefined) config.workload = workload(obj.workload, `${at}.workload`);
  return config;
}

function object(value: unknown, at: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new IssuerConfigError(at, 'must be a JSON object');
  return value as Record<string, unknown>;
}

/** A misspelt field would otherwise be ignored silently, leaving a default where a setting was meant. */
function onlyFields(obj: Record<string, unknown>, allowed: string[], at: string): void {
  const unknown = Object.keys(obj).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new IssuerConfigError(`${at}.${unknown}`, `is not a known field (known: ${allowed.join(', ')})`);
}

function nonEmptyString(value: unknown, at: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new IssuerConfigError(at, 'must be a non-empty string');
  if (value !== value.trim()) throw new IssuerConfigError(at, 'must not start or end with whitespace');
  return value;
}

function endpoint(value: unknown, at: string): string {
  const url = nonEmptyString(value, at);
  if (!isAllowedEndpoint(url)) throw new IssuerConfigError(at, URL_RULE);
  return url;
}

function audience(value: unknown, at: string): string | string[] {
  if (typeof value === 'string') return nonEmptyString(value, at);
  if (!Array.isArray(value) || value.length === 0) throw new IssuerConfigError(at, 'must be a non-empty string or a non-empty array of strings');
  return value.map((v, i) => nonEmptyString(v, `${at}[${i}]`));
}

function algorithms(value: unknown, at: string): AsymmetricAlgorithm[] {
  if (!Array.isArray(value) || value.length === 0) throw new IssuerConfigError(at, 'must be a non-empty array');
  return value.map((v, i) => {
    if (!(ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(v))
      throw new IssuerConfigError(`${at}[${i}]`, `must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')} (HMAC and "none" are never accepted)`);
    return v as AsymmetricAlgorithm;
  });
}

function tolerance(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_CLOCK_TOLERANCE_SECONDS)
    throw new IssuerConfigError(at, `must be an integer from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  return value;
}

function claimPath(value: unknown, at: string): string {
  const path = nonEmptyString(value, at);
  if (/\s/.test(path) || path.split('.').some((segment) => segment === '')) throw new IssuerConfigError(at, 'must be a claim name or a dotted path such as realm_access.roles');
  return path;
}

function roleMapping(value: unknown, at: string): Record<string, RoleName> {
  const obj = object(value, at);
  const out: Record<string, RoleName> = {};
  for (const [name, role] of Object.entries(obj)) {
    const field = `${at}[${JSON.stringify(name)}]`;
    if (name === '') throw new IssuerConfigError(field, 'IdP role or group names must not be empty');
    if (!ALL_ROLES.includes(role as RoleName)) throw new IssuerConfigError(field, `must be one of ${ALL_ROLES.join(', ')}`);
    out[name] = role as RoleName;
  }
  return out;
}

function workload(value: unknown, at: string): WorkloadMapping {
  const obj = object(value, at);
  onlyFields(obj, WORKLOAD_FIELDS, at);
  const mapping: WorkloadMapping = { systemClaim: claimPath(obj.systemClaim, `${at}.systemClaim`) };
  if (obj.systems !== undefined) {
    const systems = object(obj.systems, `${at}.systems`);
    if (Object.keys(systems).length === 0) throw new IssuerConfigError(`${at}.systems`, 'must map at least one value, or be left out');
    mapping.systems = {};
    for (const [claimValue, systemId] of Object.entries(systems)) mapping.systems[claimValue] = nonEmptyString(systemId, `${at}.systems[${JSON.stringify(claimValue)}]`);
  }
  return mapping;
}
