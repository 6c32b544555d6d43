import { parseWorkloadSpiffeId, uriSans, workloadFromSans } from './spiffe-id';

describe('SPIFFE workload ids in client certificates', () => {
  it('reads URI entries from node\'s subjectAltName text, quoted ones included', () => {
    expect(uriSans('DNS:a.example, URI:spiffe://td/tenant/t/system/s, IP Address:127.0.0.1')).toEqual(['spiffe://td/tenant/t/system/s']);
    // A comma inside a value makes node quote it; it stays one entry and cannot pose as a second SAN.
    expect(uriSans('URI:"spiffe://td/tenant/t/system/s, URI:spiffe://td/tenant/x/system/y"')).toEqual(['spiffe://td/tenant/t/system/s, URI:spiffe://td/tenant/x/system/y']);
    expect(uriSans(undefined)).toEqual([]);
    expect(uriSans('DNS:only.example')).toEqual([]);
  });

  it('accepts exactly one SPIFFE id of the form spiffe://<trust domain>/tenant/<t>/system/<s>', () => {
    expect(workloadFromSans('URI:spiffe://cmk.test/tenant/tenant-a/system/sys-k1', 'cmk.test')).toEqual({ ok: true, spiffeId: 'spiffe://cmk.test/tenant/tenant-a/system/sys-k1', tenantId: 'tenant-a', systemId: 'sys-k1' });
  });

  it.each([
    [undefined, 'has no URI subject alternative name'],
    ['DNS:x.example', 'has no URI subject alternative name'],
    ['URI:spiffe://cmk.test/tenant/a/system/s, URI:spiffe://cmk.test/tenant/b/system/s', 'more than one URI'],
    ['URI:https://cmk.test/tenant/a/system/s', 'is not a SPIFFE ID'],
    ['URI:spiffe://cmk.test.evil/tenant/a/system/s', 'not in the trust domain cmk.test'],
    ['URI:spiffe://evil.test/tenant/a/system/s', 'not in the trust domain cmk.test'],
    ['URI:spiffe://cmk.test/tenant/a/system/s/extra', 'must be spiffe://cmk.test/tenant/<tenantId>/system/<systemId>'],
    ['URI:spiffe://cmk.test/tenant/../system/s', 'must be spiffe://cmk.test/tenant/<tenantId>/system/<systemId>'],
    ['URI:spiffe://cmk.test/tenant/a%2Fb/system/s', 'must be spiffe://cmk.test/tenant/<tenantId>/system/<systemId>'],
    ['URI:spiffe://cmk.test/tenant//system/s', 'must be spiffe://cmk.test/tenant/<tenantId>/system/<systemId>'],
    ['URI:spiffe://cmk.test/system/s/tenant/a', 'must be spiffe://cmk.test/tenant/<tenantId>/system/<systemId>'],
  ])('refuses %s', (san, problem) => {
    const result = workloadFromSans(san, 'cmk.test');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(problem);
  });

  it('compares the trust domain exactly (no prefix match)', () => {
    expect(parseWorkloadSpiffeId('spiffe://cmk.testing/tenant/a/system/s', 'cmk.test')).toMatchObject({ ok: false });
  });
});
