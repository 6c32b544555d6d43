import { PolicyFieldError, validatePolicyDocument } from './policy-document';

const paths = (errors: PolicyFieldError[]) => errors.map((e) => e.path);
/** The single error a document produces (fails the test when there is not exactly one). */
const onlyError = (doc: unknown): PolicyFieldError => {
  const errors = validatePolicyDocument(doc);
  expect(errors).toHaveLength(1);
  return errors[0];
};

describe('validatePolicyDocument', () => {
  describe('valid documents', () => {
    it('accepts an empty document, which constrains nothing', () => expect(validatePolicyDocument({})).toEqual([]));

    it('accepts a complete document', () => {
      expect(
        validatePolicyDocument({
          keyStrength: { allowedAlgorithms: ['AES', 'RSA', 'EC'], minimumBits: { AES: 256, RSA: 3072, EC: 384 } },
          rotation: { maxAgeDays: 90, warningDays: 14, tenantKeyMaxAgeDays: 30, tenantKeyWarningDays: 7 },
          geofence: { unwrapRegions: { EU: ['eu-central-1', 'europe-west3', 'westeurope'], CH: ['on-prem-zrh1'] } },
        }),
      ).toEqual([]);
    });

    it('accepts each section on its own, and empty sections', () => {
      expect(validatePolicyDocument({ keyStrength: {} })).toEqual([]);
      expect(validatePolicyDocument({ rotation: {} })).toEqual([]);
      expect(validatePolicyDocument({ geofence: {} })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { maxAgeDays: 365 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { warningDays: 30 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { tenantKeyMaxAgeDays: 30 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { tenantKeyWarningDays: 5 } })).toEqual([]);
      expect(validatePolicyDocument({ geofence: { unwrapRegions: {} } })).toEqual([]);
    });

    it('accepts the bounds', () => {
      expect(validatePolicyDocument({ keyStrength: { minimumBits: { RSA: 16384, AES: 1 } } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { maxAgeDays: 3650, warningDays: 3649 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { maxAgeDays: 2, warningDays: 1 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { tenantKeyMaxAgeDays: 3650, tenantKeyWarningDays: 3649 } })).toEqual([]);
      expect(validatePolicyDocument({ rotation: { tenantKeyMaxAgeDays: 1 } })).toEqual([]);
    });
  });

  describe('the document itself', () => {
    it.each([[[]], [null], ['{}'], [42], [undefined], [true]])('refuses %j: not an object', (doc) => {
      expect(validatePolicyDocument(doc)).toEqual([{ path: '$', message: 'a policy document must be a JSON object' }]);
    });
  });

  describe('unknown fields', () => {
    it.each([
      [{ colour: 'red' }, '$.colour', 'keyStrength, rotation, geofence, providers, failClosed, approvals, hyokHealth'],
      [{ keyStrength: { maximumBits: {} } }, '$.keyStrength.maximumBits', 'allowedAlgorithms, minimumBits'],
      [{ keyStrength: { minimumBits: { DES: 56 } } }, '$.keyStrength.minimumBits.DES', 'AES, RSA, EC'],
      [{ rotation: { minAgeDays: 1 } }, '$.rotation.minAgeDays', 'maxAgeDays, warningDays, tenantKeyMaxAgeDays, tenantKeyWarningDays'],
      [{ geofence: { wrapRegions: {} } }, '$.geofence.wrapRegions', 'unwrapRegions, rootOfTrustRegions'],
    ])('refuses %j at its path, listing the allowed fields', (doc, path, allowed) => {
      expect(onlyError(doc)).toEqual({ path, message: `unknown field; allowed: ${allowed}` });
    });

    it('is case-sensitive', () => expect(paths(validatePolicyDocument({ KeyStrength: {} }))).toEqual(['$.KeyStrength']));
  });

  describe('wrong types', () => {
    it.each([
      [{ keyStrength: 3 }, '$.keyStrength', 'must be an object'],
      [{ keyStrength: [] }, '$.keyStrength', 'must be an object'],
      [{ keyStrength: null }, '$.keyStrength', 'must be an object'],
      [{ keyStrength: { allowedAlgorithms: 'AES' } }, '$.keyStrength.allowedAlgorithms', 'must be a non-empty array'],
      [{ keyStrength: { allowedAlgorithms: [] } }, '$.keyStrength.allowedAlgorithms', 'must be a non-empty array'],
      [{ keyStrength: { allowedAlgorithms: ['AES', 'aes'] } }, '$.keyStrength.allowedAlgorithms[1]', 'must be one of AES, RSA, EC'],
      [{ keyStrength: { allowedAlgorithms: [1] } }, '$.keyStrength.allowedAlgorithms[0]', 'must be one of AES, RSA, EC'],
      [{ keyStrength: { minimumBits: [256] } }, '$.keyStrength.minimumBits', 'must be an object'],
      [{ keyStrength: { minimumBits: { AES: '256' } } }, '$.keyStrength.minimumBits.AES', 'must be a positive integer up to 16384'],
      [{ keyStrength: { minimumBits: { AES: 0 } } }, '$.keyStrength.minimumBits.AES', 'must be a positive integer up to 16384'],
      [{ keyStrength: { minimumBits: { AES: 127.5 } } }, '$.keyStrength.minimumBits.AES', 'must be a positive integer up to 16384'],
      [{ keyStrength: { minimumBits: { RSA: 16385 } } }, '$.keyStrength.minimumBits.RSA', 'must be a positive integer up to 16384'],
      [{ keyStrength: { minimumBits: { EC: null } } }, '$.keyStrength.minimumBits.EC', 'must be a positive integer up to 16384'],
      [{ rotation: 'monthly' }, '$.rotation', 'must be an object'],
      [{ rotation: { maxAgeDays: '90' } }, '$.rotation.maxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { maxAgeDays: 0 } }, '$.rotation.maxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { maxAgeDays: 3651 } }, '$.rotation.maxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { warningDays: -1 } }, '$.rotation.warningDays', 'must be a positive integer up to 3650'],
      [{ rotation: { warningDays: 1.5 } }, '$.rotation.warningDays', 'must be a positive integer up to 3650'],
      [{ rotation: { tenantKeyMaxAgeDays: '30' } }, '$.rotation.tenantKeyMaxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { tenantKeyMaxAgeDays: 0 } }, '$.rotation.tenantKeyMaxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { tenantKeyMaxAgeDays: 3651 } }, '$.rotation.tenantKeyMaxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { tenantKeyMaxAgeDays: null } }, '$.rotation.tenantKeyMaxAgeDays', 'must be a positive integer up to 3650'],
      [{ rotation: { tenantKeyWarningDays: 2.5 } }, '$.rotation.tenantKeyWarningDays', 'must be a positive integer up to 3650'],
      [{ geofence: ['EU'] }, '$.geofence', 'must be an object'],
      [{ geofence: { unwrapRegions: ['eu-central-1'] } }, '$.geofence.unwrapRegions', 'must be an object keyed by jurisdiction'],
      [{ geofence: { unwrapRegions: { EU: 'eu-central-1' } } }, '$.geofence.unwrapRegions.EU', 'must be a non-empty array of regions'],
      [{ geofence: { unwrapRegions: { EU: [] } } }, '$.geofence.unwrapRegions.EU', 'must be a non-empty array of regions'],
    ])('refuses %j at %s', (doc, path, message) => {
      expect(onlyError(doc)).toEqual({ path, message });
    });
  });

  describe('regions', () => {
    it.each([['Eu-central-1'], ['eu central 1'], ['eu-central-'], ['-eu'], ['eu--central'], ['1eu'], [''], ['eu_central_1']])('refuses the region %j', (region) => {
      expect(onlyError({ geofence: { unwrapRegions: { EU: ['eu-central-1', region] } } })).toEqual({
        path: '$.geofence.unwrapRegions.EU[1]',
        message: 'must be a region name like eu-central-1',
      });
    });
    it('refuses a region that is not a string', () => {
      expect(onlyError({ geofence: { unwrapRegions: { US: [42] } } }).path).toBe('$.geofence.unwrapRegions.US[0]');
    });
    it('names every bad region of every jurisdiction', () => {
      expect(paths(validatePolicyDocument({ geofence: { unwrapRegions: { EU: ['X', 'eu-west-1', 'Y'], US: ['Z'] } } }))).toEqual([
        '$.geofence.unwrapRegions.EU[0]',
        '$.geofence.unwrapRegions.EU[2]',
        '$.geofence.unwrapRegions.US[0]',
      ]);
    });
  });

  describe('rotation: warningDays must be smaller than maxAgeDays', () => {
    it.each([
      [30, 30],
      [30, 31],
      [1, 3650],
    ])('refuses maxAgeDays %i with warningDays %i', (maxAgeDays, warningDays) => {
      expect(onlyError({ rotation: { maxAgeDays, warningDays } })).toEqual({ path: '$.rotation.warningDays', message: 'must be smaller than maxAgeDays' });
    });
    it('accepts warningDays one below maxAgeDays', () => expect(validatePolicyDocument({ rotation: { maxAgeDays: 30, warningDays: 29 } })).toEqual([]));
  });

  describe('rotation: tenantKeyWarningDays must be smaller than tenantKeyMaxAgeDays', () => {
    it.each([
      [7, 7],
      [7, 8],
    ])('refuses tenantKeyMaxAgeDays %i with tenantKeyWarningDays %i', (tenantKeyMaxAgeDays, tenantKeyWarningDays) => {
      expect(onlyError({ rotation: { tenantKeyMaxAgeDays, tenantKeyWarningDays } })).toEqual({ path: '$.rotation.tenantKeyWarningDays', message: 'must be smaller than tenantKeyMaxAgeDays' });
    });
    it('checks the L2 window against the L2 maximum only, not the L1 one', () => {
      expect(validatePolicyDocument({ rotation: { maxAgeDays: 365, warningDays: 30, tenantKeyMaxAgeDays: 10, tenantKeyWarningDays: 3 } })).toEqual([]);
      expect(onlyError({ rotation: { maxAgeDays: 365, tenantKeyMaxAgeDays: 10, tenantKeyWarningDays: 30 } }).path).toBe('$.rotation.tenantKeyWarningDays');
    });
  });

  it('reports every problem, each with its path, in document order', () => {
    expect(
      paths(
        validatePolicyDocument({
          keyStrength: { allowedAlgorithms: ['AES', 'DES'], minimumBits: { RSA: 'big', XYZ: 1 } },
          rotation: { maxAgeDays: 10, warningDays: 10 },
          geofence: { unwrapRegions: { EU: [], US: ['Not A Region'] } },
          colour: 'red',
        }),
      ),
    ).toEqual([
      '$.colour',
      '$.keyStrength.allowedAlgorithms[1]',
      '$.keyStrength.minimumBits.XYZ',
      '$.keyStrength.minimumBits.RSA',
      '$.rotation.warningDays',
      '$.geofence.unwrapRegions.EU',
      '$.geofence.unwrapRegions.US[0]',
    ]);
  });

  describe('providers, root-of-trust regions and the fail-closed bound', () => {
    it('accepts them', () => {
      expect(
        validatePolicyDocument({
          providers: { allowedKinds: ['pkcs11', 'aws-kms'] },
          geofence: { rootOfTrustRegions: { EU: ['eu-central-1'] } },
          failClosed: { maxStalenessMs: 1500 },
        }),
      ).toEqual([]);
    });

    it.each([
      [{ providers: { allowedKinds: [] } }, '$.providers.allowedKinds', 'must be a non-empty array'],
      [{ providers: { allowedKinds: ['PKCS 11'] } }, '$.providers.allowedKinds[0]', 'must be a provider kind like pkcs11 or aws-kms'],
      [{ providers: { kinds: ['pkcs11'] } }, '$.providers.kinds', 'unknown field; allowed: allowedKinds'],
      [{ geofence: { rootOfTrustRegions: { EU: ['Frankfurt'] } } }, '$.geofence.rootOfTrustRegions.EU[0]', 'must be a region name like eu-central-1'],
      [{ failClosed: { maxStalenessMs: 50 } }, '$.failClosed.maxStalenessMs', 'must be an integer from 100 to 60000 (milliseconds)'],
      [{ failClosed: { maxStalenessMs: 1.5 } }, '$.failClosed.maxStalenessMs', 'must be an integer from 100 to 60000 (milliseconds)'],
      [{ failClosed: 2000 }, '$.failClosed', 'must be an object'],
      [{ hyokHealth: { onProblem: 'panic' } }, '$.hyokHealth.onProblem', 'must be warn or revoke'],
      [{ hyokHealth: 'revoke' }, '$.hyokHealth', 'must be an object'],
    ])('refuses %j at %s', (doc, path, message) => {
      expect(validatePolicyDocument(doc)).toEqual([{ path, message }]);
    });
  });
});
