import { IssuerRegistry } from './issuer-registry';

describe('IssuerRegistry.workloadMapping', () => {
  const jwks = { keys: [] };
  const registry = new IssuerRegistry([
    { issuer: 'urn:people', audience: 'a', jwks },
    { issuer: 'urn:workloads', audience: 'a', jwks, workload: { systemClaim: 'client_id', systems: { 'billing-svc': 'sys-billing' } } },
  ]);
  afterAll(() => registry.close());

  it('tells an issuer without a workload mapping from one with, and returns a copy', () => {
    expect(registry.workloadMapping('urn:people')).toBeUndefined();
    expect(registry.workloadMapping('urn:unknown')).toBeUndefined();
    const mapping = registry.workloadMapping('urn:workloads')!;
    expect(mapping).toEqual({ systemClaim: 'client_id', systems: { 'billing-svc': 'sys-billing' } });
    mapping.systems!['billing-svc'] = 'sys-other';
    expect(registry.workloadMapping('urn:workloads')?.systems).toEqual({ 'billing-svc': 'sys-billing' });
  });
});
