import type { PolicyInForce } from './key-strength.rule';
import { DEFAULT_MAX_STALENESS_MS, type PolicyDocument } from './policy-document';
import { checkProviderPlacement, maxStalenessOf } from './provider-placement.rule';

const policy = (policyId: string, version: number, document: PolicyDocument): PolicyInForce => ({ policyId, version, document });
const hsmOnly = policy('p-hsm', 3, { providers: { allowedKinds: ['pkcs11'] } });
const euRoots = policy('p-eu', 1, { geofence: { rootOfTrustRegions: { EU: ['eu-central-1', 'eu-west-1'] } } });

describe('checkProviderPlacement (admission rules providers.allowed-kinds, geofence.root-of-trust-region)', () => {
  it('finds nothing without such policies, or for a compliant link', () => {
    expect(checkProviderPlacement([], { providerKind: 'aws-kms', providerRegion: 'us-east-1' }, 'EU')).toEqual([]);
    expect(checkProviderPlacement([policy('p', 1, { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } })], { providerKind: 'aws-kms', providerRegion: 'us-east-1' }, 'EU')).toEqual([]);
    expect(checkProviderPlacement([hsmOnly, euRoots], { providerKind: 'pkcs11', providerRegion: 'eu-west-1' }, 'EU')).toEqual([]);
  });

  it('names a provider kind that is not allowed, with the policy and its version', () => {
    expect(checkProviderPlacement([hsmOnly], { providerKind: 'aws-kms', providerRegion: 'eu-central-1' }, 'EU')).toEqual([
      { rule: 'providers.allowed-kinds', message: 'provider kind aws-kms is not allowed; allowed: pkcs11', policyId: 'p-hsm', policyVersion: 3 },
    ]);
  });

  it("keeps a jurisdiction's roots of trust in its regions, and leaves other jurisdictions alone", () => {
    expect(checkProviderPlacement([euRoots], { providerKind: 'pkcs11', providerRegion: 'us-east-1' }, 'EU')).toEqual([
      {
        rule: 'geofence.root-of-trust-region',
        message: 'a root of trust for EU tenants may not live in us-east-1; allowed: eu-central-1, eu-west-1',
        policyId: 'p-eu',
        policyVersion: 1,
      },
    ]);
    expect(checkProviderPlacement([euRoots], { providerKind: 'pkcs11', providerRegion: 'us-east-1' }, 'US')).toEqual([]);
  });

  it('reports every violation of every policy', () => {
    const findings = checkProviderPlacement([hsmOnly, euRoots], { providerKind: 'gcp-kms', providerRegion: 'us-central1' }, 'EU');
    expect(findings.map((f) => f.rule)).toEqual(['providers.allowed-kinds', 'geofence.root-of-trust-region']);
  });
});

describe('maxStalenessOf', () => {
  it('is the default without a policy that sets it, else the smallest set', () => {
    expect(maxStalenessOf([])).toBe(DEFAULT_MAX_STALENESS_MS);
    expect(maxStalenessOf([{}, { rotation: { maxAgeDays: 30 } }])).toBe(DEFAULT_MAX_STALENESS_MS);
    expect(maxStalenessOf([{ failClosed: { maxStalenessMs: 5000 } }])).toBe(5000);
    expect(maxStalenessOf([{ failClosed: { maxStalenessMs: 5000 } }, { failClosed: { maxStalenessMs: 800 } }, {}])).toBe(800);
  });
});
