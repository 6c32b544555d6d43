import fc from 'fast-check';
import { decideAccess } from './access-decision';
import { decryptAccess, DecryptAccessInput, EnforcementReceipt, RevocationRecord } from './decrypt-access';
import { foldAll, GovernanceRecord, tenantIdsOf, TenantViewWorld, viewOf } from './tenant-view.fold';
import { TenantViewStore } from './tenant-view.store';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1'];
const AT = new Date('2026-11-28T12:00:00.000Z');
const at = (ms: number) => new Date(AT.getTime() + ms).toISOString();

type Step = [streamName: string, type: string, data: Record<string, unknown>];

function fold(steps: Step[]): TenantViewWorld {
  return foldAll(steps.map(([streamName, type, data], i): GovernanceRecord => ({ streamName, position: BigInt(i + 1), type, data })));
}

const onboard = (tenantId: string, jurisdiction = 'EU'): Step => [`tenant-${tenantId}`, 'TenantOnboarded', { tenantId, jurisdiction, homeRegion: 'eu-central-1' }];
const link = (tenantId: string, keyLinkId: string): Step => [
  `keylink-${keyLinkId}`,
  'KeyLinked',
  { keyLinkId, tenantId, providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=acme;object=${keyLinkId}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
];
const linkEvent = (tenantId: string, keyLinkId: string, type: string, data: Record<string, unknown> = {}): Step => [`keylink-${keyLinkId}`, type, { keyLinkId, tenantId, ...data }];
const register = (tenantId: string, systemId: string, keyLinkId: string): Step => [`system-${systemId}`, 'SystemRegistered', { systemId, tenantId, keyLinkId, region: 'eu-central-1' }];
const define = (policyId: string, document: unknown): Step => [`policy-${policyId}`, 'PolicyDefined', { policyId, document }];
const assign = (scope: string, policyId: string, version: number | 'latest' = 'latest'): Step => [`policyscope-${scope}`, 'PolicyAssigned', { policyId, version }];
const EU_ONLY = { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } };

const input = (world: TenantViewWorld, over: Partial<DecryptAccessInput> = {}): DecryptAccessInput => ({ world, tenantId: 't1', regions: REGIONS, at: AT, ...over });

describe('decryptAccess (pure)', () => {
  const active = [onboard('t1'), link('t1', 'k1'), linkEvent('t1', 'k1', 'KeyPossessionProven', { keyVersion: 'v7' }), linkEvent('t1', 'k1', 'KeyLinkActivated'), register('t1', 's1', 'k1')];

  it('lists every configured region for an active system and link when no geofence applies, with the L1 key it goes through', () => {
    const answer = decryptAccess(input(fold(active)))!;
    expect(answer).toMatchObject({ couldDecrypt: true, reasons: [], status: 'active', geofence: { allowedRegions: null, servedRegions: REGIONS, setBy: [] }, policies: [] });
    expect(answer.systems).toEqual([
      {
        systemId: 's1',
        systemRegion: 'eu-central-1',
        keyLinkId: 'k1',
        keyLink: { keyLinkId: 'k1', status: 'active', keyReference: 'pkcs11:token=acme;object=k1', providerKind: 'pkcs11', mode: 'HYOK', l1KeyVersion: 'v7', tenantKeyVersion: 1 },
        regions: REGIONS,
        denied: [],
        reason: null,
      },
    ]);
  });

  it('narrows to the geofence and names the rule and policy version that set it', () => {
    const answer = decryptAccess(input(fold([...active, define('p1', EU_ONLY), assign('t1', 'p1')])))!;
    expect(answer.systems[0].regions).toEqual(['eu-central-1']);
    expect(answer.systems[0].denied).toEqual([
      { region: 'eu-west-1', reason: 'region-not-allowed' },
      { region: 'us-east-1', reason: 'region-not-allowed' },
    ]);
    expect(answer.geofence).toEqual({
      allowedRegions: ['eu-central-1'],
      servedRegions: ['eu-central-1'],
      setBy: [{ policyId: 'p1', version: 1, rule: 'geofence.unwrapRegions.EU', regions: ['eu-central-1'] }],
    });
    expect(answer.policies).toEqual([{ policyId: 'p1', version: 1 }]);
  });

  it('a geofence that excludes every configured region: nobody, region-not-allowed', () => {
    const answer = decryptAccess(input(fold([...active, define('p1', { geofence: { unwrapRegions: { EU: ['eu-north-1'] } } }), assign('global', 'p1')])))!;
    expect(answer).toMatchObject({ couldDecrypt: false, reasons: ['region-not-allowed'], geofence: { servedRegions: [] } });
    expect(answer.systems[0].reason).toBe('region-not-allowed');
  });

  it.each([
    ['a revoked link', [linkEvent('t1', 'k1', 'KeyLinkRevoked')], 'key-link-revoked'],
    ['an unlinked link', [linkEvent('t1', 'k1', 'KeyUnlinked')], 'key-link-revoked'],
    ['a suspended tenant', [['tenant-t1', 'TenantSuspended', { tenantId: 't1' }] as Step], 'tenant-suspended'],
    ['an offboarded tenant', [['tenant-t1', 'TenantOffboarded', { tenantId: 't1' }] as Step], 'tenant-offboarded'],
  ])('%s: nobody, %s', (_, more, reason) => {
    const answer = decryptAccess(input(fold([...active, ...(more as Step[])])))!;
    expect(answer).toMatchObject({ couldDecrypt: false, reasons: [reason] });
    expect(answer.systems[0].regions).toEqual([]);
  });

  it('behind a geofence, why nobody is told by the regions that held the view (outside it, nobody ever could)', () => {
    const answer = decryptAccess(input(fold([...active, define('p1', EU_ONLY), assign('jurisdiction:EU', 'p1'), linkEvent('t1', 'k1', 'KeyLinkRevoked')])))!;
    expect(answer).toMatchObject({ couldDecrypt: false, reasons: ['key-link-revoked'], systems: [{ reason: 'key-link-revoked' }] });
    expect(answer.systems[0].denied).toEqual([
      { region: 'eu-central-1', reason: 'key-link-revoked' },
      { region: 'eu-west-1', reason: 'region-not-allowed' },
      { region: 'us-east-1', reason: 'region-not-allowed' },
    ]);
  });

  it('a pending link is not active; a tenant without systems has nobody', () => {
    expect(decryptAccess(input(fold([onboard('t1'), link('t1', 'k1'), register('t1', 's1', 'k1')]))))
      .toMatchObject({ couldDecrypt: false, reasons: ['key-link-not-active'], systems: [{ keyLink: { status: 'pending' }, reason: 'key-link-not-active' }] });
    expect(decryptAccess(input(fold([onboard('t1')])))).toMatchObject({ couldDecrypt: false, reasons: ['no-system'], systems: [] });
    expect(decryptAccess(input(fold(active), { regions: [] }))).toMatchObject({ couldDecrypt: false, reasons: ['no-configured-region'] });
  });

  it('is undefined for a tenant the world has not seen onboarded', () => {
    expect(decryptAccess(input(fold(active), { tenantId: 't2' }))).toBeUndefined();
  });

  describe('revocations not yet enforced at T', () => {
    const revoked = fold([...active, linkEvent('t1', 'k1', 'KeyLinkRevoked')]);
    const revocation: RevocationRecord = { position: '6', cause: 'KeyLinkRevoked', keyLinkId: 'k1', recordedAt: at(-1000) };
    const dispatched: EnforcementReceipt = { type: 'RevocationDispatched', recordedAt: at(-990), revocationPosition: '6', regions: ['us-east-1', 'eu-central-1'] };
    const enforced = (region: string, ms: number): EnforcementReceipt => ({ type: 'RevocationEnforced', revocationPosition: '6', region, enforcedAt: at(ms) });

    it('lists the regions whose receipt came after T (they could still serve until then) or never', () => {
      const answer = decryptAccess(input(revoked, { revocations: [revocation], receipts: [dispatched, enforced('eu-central-1', -980), enforced('us-east-1', 500), enforced('us-east-1', 300)] }))!;
      expect(answer.pendingRevocations).toEqual([
        { revocationPosition: '6', cause: 'KeyLinkRevoked', keyLinkId: 'k1', revokedAt: at(-1000), dispatchedAt: at(-990), regions: [{ region: 'us-east-1', enforcedAt: at(300) }] },
      ]);
      const never = decryptAccess(input(revoked, { revocations: [revocation], receipts: [dispatched] }))!;
      expect(never.pendingRevocations[0].regions).toEqual([
        { region: 'eu-central-1', enforcedAt: null },
        { region: 'us-east-1', enforcedAt: null },
      ]);
    });

    it('before any dispatch, every configured region that held the view is pending', () => {
      const answer = decryptAccess(input(revoked, { revocations: [revocation], receipts: [] }))!;
      expect(answer.pendingRevocations[0]).toMatchObject({ dispatchedAt: null, regions: REGIONS.map((region) => ({ region, enforcedAt: null })) });
    });

    it('drops revocations fully enforced by T, recorded after T, or no longer in effect (restored)', () => {
      const all = [dispatched, enforced('eu-central-1', -980), enforced('us-east-1', -970)];
      expect(decryptAccess(input(revoked, { revocations: [revocation], receipts: all }))!.pendingRevocations).toEqual([]);
      expect(decryptAccess(input(revoked, { revocations: [{ ...revocation, recordedAt: at(1) }], receipts: [] }))!.pendingRevocations).toEqual([]);
      const restored = fold([...active, linkEvent('t1', 'k1', 'KeyLinkRevoked'), linkEvent('t1', 'k1', 'KeyLinkRestored', { restoredStatus: 'active' })]);
      expect(decryptAccess(input(restored, { revocations: [revocation], receipts: [dispatched] }))!.pendingRevocations).toEqual([]);
    });
  });
});

/** Random histories over a few ids, so events collide on the same tenants, links, systems and policies. */
const TENANTS = ['t1', 't2'];
const LINKS = ['k1', 'k2', 'k3'];
const SYSTEMS = ['s1', 's2', 's3'];
const POLICIES = ['p1', 'p2'];
const ALL_REGIONS = [...REGIONS, 'ap-southeast-1'];

const tenantOf = (id: string) => TENANTS[id.charCodeAt(1) % TENANTS.length];
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constantFrom(...TENANTS), j: fc.constantFrom('EU', 'US') }).map(({ t, j }) => onboard(t, j)),
  fc.record({ t: fc.constantFrom(...TENANTS), type: fc.constantFrom('TenantSuspended', 'TenantResumed', 'TenantOffboarded') }).map(({ t, type }): Step => [`tenant-${t}`, type, { tenantId: t }]),
  fc.constantFrom(...LINKS).map((k) => link(tenantOf(k), k)),
  fc
    .record({ k: fc.constantFrom(...LINKS), type: fc.constantFrom('KeyLinkActivated', 'KeyLinkRevoked', 'KeyLinkRestored', 'KeyUnlinked'), restored: fc.constantFrom('active', 'pending') })
    .map(({ k, type, restored }) => linkEvent(tenantOf(k), k, type, { restoredStatus: restored })),
  fc.record({ s: fc.constantFrom(...SYSTEMS), k: fc.constantFrom(...LINKS, 'k-missing') }).map(({ s, k }) => register(tenantOf(s), s, k)),
  fc.record({ s: fc.constantFrom(...SYSTEMS), k: fc.constantFrom(...LINKS), deregister: fc.boolean() }).map(({ s, k, deregister }): Step =>
    deregister ? [`system-${s}`, 'SystemDeregistered', { systemId: s, tenantId: tenantOf(s) }] : [`system-${s}`, 'SystemRebound', { systemId: s, tenantId: tenantOf(s), toKeyLinkId: k }],
  ),
  fc
    .record({ p: fc.constantFrom(...POLICIES), eu: fc.subarray(ALL_REGIONS), us: fc.option(fc.subarray(ALL_REGIONS), { nil: undefined }), version: fc.integer({ min: 1, max: 3 }) })
    .map(({ p, eu, us, version }): Step => {
      const document = { geofence: { unwrapRegions: { EU: eu, ...(us ? { US: us } : {}) } } };
      return version === 1 ? define(p, document) : [`policy-${p}`, 'PolicyRevised', { policyId: p, version, document }];
    }),
  fc
    .record({ p: fc.constantFrom(...POLICIES), scope: fc.constantFrom('global', 'jurisdiction:EU', 'jurisdiction:US', ...TENANTS), version: fc.constantFrom<number | 'latest'>('latest', 1, 2), unassign: fc.boolean() })
    .map(({ p, scope, version, unassign }): Step => (unassign ? [`policyscope-${scope}`, 'PolicyUnassigned', { policyId: p }] : assign(scope, p, version))),
);

/** Every tenant onboarded, every link linked, every system registered, the policies defined: then random steps. */
const setup: fc.Arbitrary<Step[]> = fc
  .record({
    jurisdictions: fc.tuple(...TENANTS.map(() => fc.constantFrom('EU', 'US'))),
    activated: fc.subarray(LINKS),
    documents: fc.tuple(...POLICIES.map(() => fc.record({ EU: fc.subarray(ALL_REGIONS), US: fc.option(fc.subarray(ALL_REGIONS), { nil: undefined }) }))),
  })
  .map(({ jurisdictions, activated, documents }) => [
    ...TENANTS.map((t, i) => onboard(t, jurisdictions[i])),
    ...LINKS.map((k) => link(tenantOf(k), k)),
    ...activated.map((k) => linkEvent(tenantOf(k), k, 'KeyLinkActivated')),
    ...SYSTEMS.map((s, i) => register(tenantOf(s), s, LINKS[i])),
    ...POLICIES.map((p, i) => define(p, { geofence: { unwrapRegions: { EU: documents[i].EU, ...(documents[i].US ? { US: documents[i].US } : {}) } } })),
  ]);

describe('decryptAccess agrees with decideAccess (property)', () => {
  it('a region is listed for a system iff a fresh, ready worker of that region holding the view allows it, and denials give the same reason', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 30 }), fc.subarray(ALL_REGIONS, { minLength: 1 }), (prefix, steps, regions) => {
        const world = fold([...prefix, ...steps]);
        for (const tenantId of tenantIdsOf(world)) {
          const view = viewOf(world, tenantId)!;
          const answer = decryptAccess({ world, tenantId, regions, at: AT })!;
          expect(answer.systems.map((s) => s.systemId).sort()).toEqual(Object.keys(view.systems).sort());
          for (const region of regions) {
            const store = new TenantViewStore(region);
            store.applyState({ kind: 'tenant-state', position: '1', tenantId, removed: false, view });
            store.markReady();
            for (const system of answer.systems) {
              const decision = decideAccess(store, region, 0, 0, { tenantId, systemId: system.systemId, operation: 'unwrap' });
              expect(system.regions.includes(region)).toBe(decision.allowed);
              if (!decision.allowed) expect(system.denied.find((d) => d.region === region)?.reason).toBe(decision.reason);
              if (decision.allowed) expect(decision.keyLink.keyLinkId).toBe(system.keyLink?.keyLinkId);
            }
          }
          expect(answer.couldDecrypt).toBe(answer.systems.some((s) => s.regions.length > 0));
        }
      }),
      { numRuns: 400 },
    );
  });
});
