import { looseningsOf } from './guardrails';
import type { PolicyInForce } from './key-strength.rule';

const global: PolicyInForce = {
  policyId: 'g',
  version: 4,
  document: {
    keyStrength: { allowedAlgorithms: ['AES', 'RSA'], minimumBits: { RSA: 3072, AES: 256 } },
    providers: { allowedKinds: ['pkcs11', 'aws-kms'] },
    geofence: { unwrapRegions: { EU: ['eu-central-1', 'eu-west-1'] }, rootOfTrustRegions: { EU: ['eu-central-1'] } },
    rotation: { maxAgeDays: 365, tenantKeyMaxAgeDays: 90 },
    failClosed: { maxStalenessMs: 2000 },
  },
};

describe('looseningsOf (guardrails: narrower scopes tighten, never loosen)', () => {
  it('accepts a narrower policy that only tightens, or speaks of other things', () => {
    expect(
      looseningsOf(
        {
          keyStrength: { allowedAlgorithms: ['AES'], minimumBits: { RSA: 4096, EC: 384 } },
          providers: { allowedKinds: ['pkcs11'] },
          geofence: { unwrapRegions: { EU: ['eu-central-1'], US: ['us-east-1'] } },
          rotation: { maxAgeDays: 90, tenantKeyMaxAgeDays: 30 },
          failClosed: { maxStalenessMs: 500 },
        },
        [global],
      ),
    ).toEqual([]);
    expect(looseningsOf({ keyStrength: { minimumBits: { RSA: 1024 } } }, [])).toEqual([]);
  });

  it('names every guardrail a looser policy hits, with the wider policy and its version', () => {
    const found = looseningsOf(
      {
        keyStrength: { allowedAlgorithms: ['AES', 'EC'], minimumBits: { RSA: 2048 } },
        providers: { allowedKinds: ['pkcs11', 'gcp-kms'] },
        geofence: { unwrapRegions: { EU: ['eu-central-1', 'us-east-1'] }, rootOfTrustRegions: { EU: ['eu-west-1'] } },
        rotation: { maxAgeDays: 730, tenantKeyMaxAgeDays: 120 },
        failClosed: { maxStalenessMs: 10000 },
      },
      [global],
    );
    expect(found.map((f) => f.path)).toEqual([
      '$.keyStrength.minimumBits.RSA',
      '$.keyStrength.allowedAlgorithms',
      '$.providers.allowedKinds',
      '$.geofence.unwrapRegions.EU',
      '$.geofence.rootOfTrustRegions.EU',
      '$.rotation.maxAgeDays',
      '$.rotation.tenantKeyMaxAgeDays',
      '$.failClosed.maxStalenessMs',
    ]);
    expect(found[0]).toEqual({ rule: 'guardrail.loosens', path: '$.keyStrength.minimumBits.RSA', message: 'RSA minimum 2048 is below the wider minimum of 3072 bits', policyId: 'g', policyVersion: 4 });
    expect(found[3].message).toBe('allows us-east-1 for EU, outside the wider geofence');
    expect(found[6]).toEqual({
      rule: 'guardrail.loosens',
      path: '$.rotation.tenantKeyMaxAgeDays',
      message: '120 days exceeds the wider maximum tenant key (L2) age of 90 days',
      policyId: 'g',
      policyVersion: 4,
    });
  });

  it('keeps the L1 and L2 maximum ages apart: a short L1 age does not bound the L2 one, nor the other way round', () => {
    expect(looseningsOf({ rotation: { tenantKeyMaxAgeDays: 200 } }, [{ policyId: 'l1', version: 1, document: { rotation: { maxAgeDays: 30 } } }])).toEqual([]);
    expect(looseningsOf({ rotation: { maxAgeDays: 200 } }, [{ policyId: 'l2', version: 1, document: { rotation: { tenantKeyMaxAgeDays: 30 } } }])).toEqual([]);
    expect(looseningsOf({ rotation: { tenantKeyMaxAgeDays: 90 } }, [global])).toEqual([]);
  });
});
