import { GovernedTenant, policyDrift, versionsExpectedIn, WorkerEnforcement } from './policy-drift';

const geo = (version: number, eu: string[]) => ({ policyId: 'geo', version, document: { geofence: { unwrapRegions: { EU: eu } } } });
const base = (version: number) => ({ policyId: 'base', version, document: { keyStrength: { minimumBits: { AES: 256 } } } });
const tenants: GovernedTenant[] = [
  { tenantId: 'eu', jurisdiction: 'EU', policies: [base(2), geo(3, ['eu-central-1'])] },
  { tenantId: 'us', jurisdiction: 'US', policies: [base(2), geo(3, ['eu-central-1'])] },
  { tenantId: 'pinned', jurisdiction: 'US', policies: [base(1)] },
];
const worker = (over: Partial<WorkerEnforcement>): WorkerEnforcement => ({ workerId: 'w', region: 'eu-central-1', liveness: 'reporting', ready: true, policies: [], ...over });

describe('policy drift', () => {
  it('a region must enforce the versions in force for the tenants its geofence lets it serve', () => {
    expect(versionsExpectedIn('eu-central-1', tenants)).toEqual([
      { policyId: 'base', version: 1 },
      { policyId: 'base', version: 2 },
      { policyId: 'geo', version: 3 },
    ]);
    // The EU tenant is fenced out of us-east-1; the US tenants still carry geo v3 (it names no US fence).
    expect(versionsExpectedIn('us-east-1', tenants.slice(0, 1))).toEqual([]);
    expect(versionsExpectedIn('us-east-1', tenants)).toEqual([
      { policyId: 'base', version: 1 },
      { policyId: 'base', version: 2 },
      { policyId: 'geo', version: 3 },
    ]);
  });

  it('in sync, behind (missing the new version, still holding the old one), silent', () => {
    const all = [{ policyId: 'base', version: 1 }, { policyId: 'base', version: 2 }, { policyId: 'geo', version: 3 }];
    const [ok, behind, silent, notReady] = policyDrift(
      [
        worker({ workerId: 'ok', policies: all }),
        worker({ workerId: 'behind', policies: [all[0], all[1], { policyId: 'geo', version: 2 }] }),
        worker({ workerId: 'silent', liveness: 'silent', policies: all }),
        worker({ workerId: 'not-ready', ready: false, policies: all }),
      ],
      tenants,
    );
    expect(ok).toEqual({ workerId: 'ok', region: 'eu-central-1', liveness: 'reporting', inSync: true, missing: [], outdated: [] });
    expect(behind).toMatchObject({ inSync: false, missing: [{ policyId: 'geo', version: 3 }], outdated: [{ policyId: 'geo', version: 2 }] });
    expect(silent).toMatchObject({ inSync: false, missing: [], outdated: [] });
    expect(notReady.inSync).toBe(false);
  });

  it('no policies anywhere: a worker reporting none is in sync', () => {
    expect(policyDrift([worker({})], [{ tenantId: 't', jurisdiction: 'EU', policies: [] }])[0].inSync).toBe(true);
  });
});
