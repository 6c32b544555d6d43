import fc from 'fast-check';
import { evaluateLinks, type LinkUnderPolicy } from './compliance';
import type { PolicyInForce } from './key-strength.rule';
import { POLICY_ALGORITHMS, type PolicyDocument } from './policy-document';

const region = fc.constantFrom('eu-central-1', 'eu-west-1', 'us-east-1', 'ap-southeast-1');
const kind = fc.constantFrom('pkcs11', 'aws-kms', 'gcp-kms', 'azure-keyvault');
const link: fc.Arbitrary<LinkUnderPolicy> = fc.record({
  keyLinkId: fc.uuid(),
  tenantId: fc.uuid(),
  jurisdiction: fc.constantFrom('EU', 'US', null),
  algorithm: fc.constantFrom(...POLICY_ALGORITHMS),
  keySize: fc.constantFrom(128, 192, 256, 384, 2048, 3072, 4096),
  providerKind: kind,
  providerRegion: region,
});
const document: fc.Arbitrary<PolicyDocument> = fc.record(
  {
    keyStrength: fc.record(
      {
        allowedAlgorithms: fc.uniqueArray(fc.constantFrom(...POLICY_ALGORITHMS), { minLength: 1 }),
        minimumBits: fc.record({ AES: fc.constantFrom(128, 256), RSA: fc.constantFrom(2048, 3072, 4096), EC: fc.constantFrom(256, 384) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    providers: fc.record({ allowedKinds: fc.uniqueArray(kind, { minLength: 1 }) }),
    geofence: fc.record({ rootOfTrustRegions: fc.record({ EU: fc.uniqueArray(region, { minLength: 1 }), US: fc.uniqueArray(region, { minLength: 1 }) }, { requiredKeys: [] }) }),
  },
  { requiredKeys: [] },
);
const inForce = (document: PolicyDocument, policyId = 'p'): PolicyInForce => ({ policyId, version: 1, document });
const flagged = (policies: PolicyInForce[], links: LinkUnderPolicy[]) => new Set(evaluateLinks(policies, links).map((f) => f.keyLinkId));

describe('policy evaluator properties (fast-check)', () => {
  it('adding a policy (a narrower scope adding its own) never allows a link that was refused', () => {
    fc.assert(
      fc.property(document, document, fc.array(link, { maxLength: 20 }), (wide, narrow, links) => {
        const before = flagged([inForce(wide)], links);
        const after = flagged([inForce(wide), inForce(narrow, 'q')], links);
        for (const id of before) expect(after.has(id)).toBe(true);
      }),
    );
  });

  it('raising a minimum never allows more', () => {
    fc.assert(
      fc.property(fc.constantFrom(...POLICY_ALGORITHMS), fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 0, max: 4096 }), fc.array(link, { maxLength: 20 }), (alg, bits, more, links) => {
        const loose = flagged([inForce({ keyStrength: { minimumBits: { [alg]: bits } } })], links);
        const tight = flagged([inForce({ keyStrength: { minimumBits: { [alg]: bits + more } } })], links);
        for (const id of loose) expect(tight.has(id)).toBe(true);
      }),
    );
  });

  it('is deterministic: the same inputs give the same findings', () => {
    fc.assert(
      fc.property(fc.array(document, { maxLength: 3 }), fc.array(link, { maxLength: 20 }), (docs, links) => {
        const policies = docs.map((d, i) => inForce(d, `p${i}`));
        expect(evaluateLinks(policies, links)).toEqual(evaluateLinks(policies, [...links]));
      }),
    );
  });
});
