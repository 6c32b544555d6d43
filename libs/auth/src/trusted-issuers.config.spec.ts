import { IssuerConfigError, parseTrustedIssuers } from './trusted-issuers.config';

const parse = (value: unknown) => parseTrustedIssuers({ CMK_AUTH_ISSUERS: typeof value === 'string' ? value : JSON.stringify(value) });
const base = { issuer: 'https://idp.example.com/realms/cmk', audience: 'openkcm-cmk' };

function errorOf(value: unknown): IssuerConfigError {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof IssuerConfigError) return error;
    throw error;
  }
  throw new Error('expected an IssuerConfigError');
}

describe('parseTrustedIssuers', () => {
  it('returns no issuers when CMK_AUTH_ISSUERS is unset or blank', () => {
    expect(parseTrustedIssuers({})).toEqual([]);
    expect(parseTrustedIssuers({ CMK_AUTH_ISSUERS: '  ' })).toEqual([]);
  });

  it('reads several issuers with every field', () => {
    const issuers = parse([
      base,
      {
        issuer: 'urn:cmk:partner-idp',
        jwksUrl: 'http://127.0.0.1:9000/keys',
        audience: ['openkcm-cmk', 'openkcm-cmk-worker'],
        algorithms: ['RS256', 'PS256'],
        clockToleranceSeconds: 0,
        rolesClaim: 'realm_access.roles',
        tenantClaim: 'https://cmk.example.com/tenant',
        roleMapping: { KeyCustodians: 'key-admin', Ops: 'platform-operator' },
        passThroughCmkRoles: false,
        workload: { systemClaim: 'client_id', systems: { 'billing-svc': 'sys-billing' } },
      },
    ]);
    expect(issuers).toEqual([
      base,
      {
        issuer: 'urn:cmk:partner-idp',
        jwksUrl: 'http://127.0.0.1:9000/keys',
        audience: ['openkcm-cmk', 'openkcm-cmk-worker'],
        algorithms: ['RS256', 'PS256'],
        clockToleranceSeconds: 0,
        rolesClaim: 'realm_access.roles',
        tenantClaim: 'https://cmk.example.com/tenant',
        roleMapping: { KeyCustodians: 'key-admin', Ops: 'platform-operator' },
        passThroughCmkRoles: false,
        workload: { systemClaim: 'client_id', systems: { 'billing-svc': 'sys-billing' } },
      },
    ]);
  });

  it.each<[string, unknown, string]>([
    ['invalid JSON', '[{"issuer":', 'CMK_AUTH_ISSUERS: is not valid JSON'],
    ['an object instead of an array', base, 'CMK_AUTH_ISSUERS: must be a non-empty JSON array'],
    ['an empty array', [], 'CMK_AUTH_ISSUERS: must be a non-empty JSON array'],
    ['a non-object entry', [base, 'https://idp'], 'CMK_AUTH_ISSUERS[1]: must be a JSON object'],
    ['a misspelt field', [{ ...base, audiance: 'x' }], 'CMK_AUTH_ISSUERS[0].audiance: is not a known field'],
    ['a missing issuer', [{ audience: 'x' }], 'CMK_AUTH_ISSUERS[0].issuer: must be a non-empty string'],
    ['an http issuer elsewhere than localhost', [{ ...base, issuer: 'http://idp.example.com' }], 'CMK_AUTH_ISSUERS[0].issuer: must be an https URL'],
    ['a non-URL issuer without jwksUrl', [{ ...base, issuer: 'urn:idp' }], 'give jwksUrl for a non-URL issuer'],
    ['an issuer with a query', [{ ...base, issuer: 'https://idp.example.com/?tenant=x' }], 'CMK_AUTH_ISSUERS[0].issuer: must not have a query'],
    ['credentials in an issuer URL', [{ ...base, issuer: 'https://user:pw@idp.example.com' }], 'without credentials'],
    ['an http jwksUrl', [{ ...base, jwksUrl: 'http://keys.example.com/jwks' }], 'CMK_AUTH_ISSUERS[0].jwksUrl: must be an https URL'],
    ['a jwksUrl that is no URL', [{ ...base, jwksUrl: 'keys' }], 'CMK_AUTH_ISSUERS[0].jwksUrl: must be an https URL'],
    ['a missing audience', [{ issuer: base.issuer }], 'CMK_AUTH_ISSUERS[0].audience: must be a non-empty string or a non-empty array'],
    ['an empty audience list', [base, { ...base, issuer: 'https://b.example.com', audience: [] }], 'CMK_AUTH_ISSUERS[1].audience: must be a non-empty'],
    ['a blank audience in a list', [{ ...base, audience: ['a', ' '] }], 'CMK_AUTH_ISSUERS[0].audience[1]: must be a non-empty string'],
    ['HS256', [{ ...base, algorithms: ['ES256', 'HS256'] }], 'CMK_AUTH_ISSUERS[0].algorithms[1]: must be one of'],
    ['alg none', [{ ...base, algorithms: ['none'] }], 'HMAC and "none" are never accepted'],
    ['an empty algorithm list', [{ ...base, algorithms: [] }], 'CMK_AUTH_ISSUERS[0].algorithms: must be a non-empty array'],
    ['a negative clock tolerance', [{ ...base, clockToleranceSeconds: -1 }], 'CMK_AUTH_ISSUERS[0].clockToleranceSeconds: must be an integer from 0 to 300'],
    ['a huge clock tolerance', [{ ...base, clockToleranceSeconds: 3600 }], 'CMK_AUTH_ISSUERS[0].clockToleranceSeconds'],
    ['a claim path with an empty segment', [{ ...base, rolesClaim: 'realm_access..roles' }], 'CMK_AUTH_ISSUERS[0].rolesClaim: must be a claim name or a dotted path'],
    ['a mapping to no CMK role', [{ ...base, roleMapping: { admins: 'superuser' } }], 'CMK_AUTH_ISSUERS[0].roleMapping["admins"]: must be one of platform-operator'],
    ['a non-boolean pass-through', [{ ...base, passThroughCmkRoles: 'no' }], 'CMK_AUTH_ISSUERS[0].passThroughCmkRoles: must be true or false'],
    ['a workload without systemClaim', [{ ...base, workload: {} }], 'CMK_AUTH_ISSUERS[0].workload.systemClaim: must be a non-empty string'],
    ['a misspelt workload field', [{ ...base, workload: { systemClaim: 'azp', system: {} } }], 'CMK_AUTH_ISSUERS[0].workload.system: is not a known field'],
    ['an empty systems table', [{ ...base, workload: { systemClaim: 'azp', systems: {} } }], 'CMK_AUTH_ISSUERS[0].workload.systems: must map at least one value'],
    ['a blank system id', [{ ...base, workload: { systemClaim: 'azp', systems: { svc: '' } } }], 'CMK_AUTH_ISSUERS[0].workload.systems["svc"]: must be a non-empty string'],
    ['the same issuer twice', [base, { ...base, audience: 'other' }], 'CMK_AUTH_ISSUERS[1].issuer: repeats CMK_AUTH_ISSUERS[0].issuer'],
  ])('refuses %s, naming the field', (_name, value, message) => {
    const error = errorOf(value);
    expect(error.message).toContain(message);
    expect(error.field).toBe(error.message.slice(0, error.message.indexOf(': ')));
  });

  it('accepts plain http only for this machine', () => {
    for (const issuer of ['http://localhost:8080/realms/cmk', 'http://127.0.0.1:4000']) expect(parse([{ ...base, issuer }])[0].issuer).toBe(issuer);
    expect(() => parse([{ ...base, issuer: 'http://127.0.0.2' }])).toThrow(IssuerConfigError);
    expect(() => parse([{ ...base, issuer: 'http://localhost.example.com' }])).toThrow(IssuerConfigError);
  });
});
