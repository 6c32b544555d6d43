import { TokenRefused } from './auth.errors';
import { asList, claimAt, mapRoles, toPrincipal, workloadSystem } from './claims-mapping';
import { resolveIssuer } from './trusted-issuer';

const issuer = resolveIssuer({
  issuer: 'https://idp.example.com',
  audience: 'cmk',
  rolesClaim: 'realm_access.roles',
  tenantClaim: 'org.tenant',
  roleMapping: { KeyCustodians: 'key-admin', Ops: 'platform-operator' },
});
const token = (claims: Record<string, unknown>) => ({ iss: 'https://idp.example.com', sub: 'alice', exp: 2_000_000_000, ...claims });

describe('claims mapping', () => {
  it('reads dotted paths, and a claim whose name is the whole path first', () => {
    const payload = { realm_access: { roles: ['a'] }, 'https://cmk.example.com/tenant': 't1', 'a.b': 'literal', a: { b: 'nested' } };
    expect(claimAt(payload, 'realm_access.roles')).toEqual(['a']);
    expect(claimAt(payload, 'https://cmk.example.com/tenant')).toBe('t1');
    expect(claimAt(payload, 'a.b')).toBe('literal');
    expect(claimAt(payload, 'realm_access.missing.deeper')).toBeUndefined();
    expect(claimAt({ x: 'str' }, 'x.length')).toBeUndefined();
    expect(claimAt({}, '__proto__.constructor')).toBeUndefined();
  });

  it('reads lists from arrays and from space or comma separated strings', () => {
    expect(asList(['a', 1, '', 'b'])).toEqual(['a', 'b']);
    expect(asList('a b,c')).toEqual(['a', 'b', 'c']);
    expect(asList({ a: 1 })).toEqual([]);
  });

  it('maps IdP names to CMK roles, drops the rest, and passes CMK role names through only when allowed', () => {
    expect(mapRoles(['KeyCustodians', 'auditor', 'superuser', 'KeyCustodians'], issuer)).toEqual(['key-admin', 'auditor']);
    expect(mapRoles(['KeyCustodians', 'auditor'], { ...issuer, passThroughCmkRoles: false })).toEqual(['key-admin']);
    expect(mapRoles(['toString', 'constructor'], issuer)).toEqual([]);
  });

  it('makes a person principal with the tenant scope from the tenant claim', () => {
    const scoped = toPrincipal(token({ realm_access: { roles: ['KeyCustodians'] }, org: { tenant: 't1' } }), issuer);
    expect(scoped).toEqual({ kind: 'person', issuer: 'https://idp.example.com', expiresAt: 2_000_000_000_000, actor: { subject: 'alice', roles: ['key-admin'], issuer: 'https://idp.example.com', tenantScope: ['t1'] } });
    const platform = toPrincipal(token({ realm_access: { roles: ['Ops'] } }), issuer);
    expect(platform.actor.tenantScope).toBeUndefined();
    const nowhere = toPrincipal(token({ realm_access: { roles: ['KeyCustodians'] } }), issuer);
    expect(nowhere.actor.tenantScope).toEqual([]);
  });

  describe('workloads', () => {
    const viaSystemClaim = { ...issuer, workload: { systemClaim: 'cmk_system' } };
    const viaClientId = { ...issuer, workload: { systemClaim: 'client_id', systems: { 'billing-svc': 'sys-billing' } } };

    it('takes the system from a dedicated claim as it is', () => {
      expect(workloadSystem(token({ cmk_system: 'sys-1' }), viaSystemClaim)).toBe('sys-1');
      expect(workloadSystem(token({ cmk_system: '' }), viaSystemClaim)).toBeUndefined();
      expect(workloadSystem(token({}), viaSystemClaim)).toBeUndefined();
      expect(workloadSystem(token({ cmk_system: 'sys-1' }), issuer)).toBeUndefined();
    });

    it('counts client_id as a workload only when the client is the subject, and maps it through the systems table', () => {
      expect(workloadSystem(token({ sub: 'billing-svc', client_id: 'billing-svc' }), viaClientId)).toBe('sys-billing');
      expect(workloadSystem(token({ sub: 'alice', client_id: 'billing-svc' }), viaClientId)).toBeUndefined();
      expect(() => workloadSystem(token({ sub: 'rogue', client_id: 'rogue' }), viaClientId)).toThrow(TokenRefused);
      expect(() => workloadSystem(token({ sub: 'toString', client_id: 'toString' }), viaClientId)).toThrow(TokenRefused);
    });

    it('makes a workload principal carrying the system id, scoped like a person', () => {
      const principal = toPrincipal(token({ sub: 'billing-svc', client_id: 'billing-svc', org: { tenant: 't9' }, realm_access: { roles: ['KeyCustodians'] } }), viaClientId);
      expect(principal).toMatchObject({ kind: 'workload', systemId: 'sys-billing', actor: { subject: 'billing-svc', roles: ['key-admin'], tenantScope: ['t9'] } });
    });
  });
});
