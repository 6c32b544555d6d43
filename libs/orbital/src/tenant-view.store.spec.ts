import { OrbitalDecodeError, RevocationMessage, TenantStateMessage, TenantView } from './orbital.messages';
import { TenantViewStore } from './tenant-view.store';

const REGION = 'eu-central-1';

const view = (over: Partial<TenantView> = {}): TenantView => ({
  tenantId: 't1',
  status: 'active',
  jurisdiction: 'EU',
  homeRegion: REGION,
  allowedRegions: null,
  maxStalenessMs: 2000,
  systems: { s1: { systemId: 's1', keyLinkId: 'k1', region: REGION } },
  keyLinks: {
    k1: { keyLinkId: 'k1', status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=t;object=l1', algorithm: 'AES', keySize: 256, providerRegion: REGION },
  },
  ...over,
});
const state = (position: number, over: Partial<TenantView> = {}, removed = false): TenantStateMessage => ({
  kind: 'tenant-state',
  position: String(position),
  tenantId: 't1',
  removed,
  view: view(over),
});
const revocation = (position: number, keyLinkId?: string, cause: RevocationMessage['cause'] = keyLinkId ? 'KeyLinkRevoked' : 'TenantSuspended'): RevocationMessage => ({
  kind: 'revocation',
  position: String(position),
  cause,
  tenantId: 't1',
  ...(keyLinkId ? { keyLinkId } : {}),
  recordedAt: '2026-01-01T00:00:00Z',
});
const linkStatus = (store: TenantViewStore) => store.get('t1')?.served?.keyLinks.get('k1')?.status;

describe('TenantViewStore', () => {
  let store: TenantViewStore;
  beforeEach(() => (store = new TenantViewStore(REGION)));

  it('applies a state and keeps the highest position', () => {
    expect(store.applyState(state(5))).toBe('applied');
    expect(store.get('t1')).toMatchObject({ statePosition: 5n, served: { status: 'active' } });
    expect(store.servedTenants).toBe(1);
  });

  it('drops a state at or below the position applied (duplicates, old redeliveries)', () => {
    store.applyState(state(5, { status: 'suspended' }));
    expect(store.applyState(state(5))).toBe('stale');
    expect(store.applyState(state(4))).toBe('stale');
    expect(store.get('t1')?.served?.status).toBe('suspended');
  });

  it('compares positions as 64-bit numbers, not strings', () => {
    store.applyState(state(9));
    expect(store.applyState({ ...state(0), position: '10' })).toBe('applied');
    expect(store.applyState({ ...state(0), position: '18446744073709551615' })).toBe('applied');
  });

  it('deletes the tenant on `removed` and keeps a tombstone so an older message cannot bring it back', () => {
    store.applyState(state(5));
    expect(store.applyState(state(6, {}, true))).toBe('applied');
    expect(store.get('t1')).toMatchObject({ served: undefined, absence: 'unknown-tenant' });
    expect(store.servedTenants).toBe(0);
    expect(store.applyState(state(5))).toBe('stale');
    expect(store.get('t1')?.served).toBeUndefined();
  });

  it('remembers why a tenant is absent: offboarded, or outside the geofence', () => {
    store.applyState(state(1, { status: 'offboarded' }, true));
    expect(store.get('t1')?.absence).toBe('tenant-offboarded');
    store.applyState(state(2, { allowedRegions: ['us-east-1'] }));
    expect(store.get('t1')).toMatchObject({ served: undefined, absence: 'region-not-allowed' });
    store.applyState(state(3, { allowedRegions: ['us-east-1', REGION] }));
    expect(store.get('t1')?.served).toBeDefined();
  });

  it('marks a link revoked before its state message arrives, and an older state does not resurrect it', () => {
    store.applyState(state(10));
    expect(store.applyRevocation(revocation(12, 'k1'))).toBe('applied');
    expect(store.get('t1')?.linkRevokedAt?.get('k1')).toBe(12n);
    // State 11 (an unrelated change before the revocation) still applies, but the mark stays in force.
    expect(store.applyState(state(11, { jurisdiction: 'DE' }))).toBe('applied');
    expect(store.get('t1')).toMatchObject({ statePosition: 11n, served: { view: { jurisdiction: 'DE' } } });
    expect(store.get('t1')?.linkRevokedAt?.get('k1')).toBe(12n);
  });

  it('clears a mark once a state at or above it is applied, so a later restore wins', () => {
    store.applyState(state(10));
    store.applyRevocation(revocation(12, 'k1'));
    store.applyState(state(12, { keyLinks: { k1: { ...view().keyLinks.k1, status: 'revoked' } } }));
    expect(store.get('t1')?.linkRevokedAt?.size).toBe(0);
    expect(linkStatus(store)).toBe('revoked');
    store.applyState(state(13));
    expect(linkStatus(store)).toBe('active');
  });

  it('tells duplicates and revocations the state already reflects apart', () => {
    store.applyState(state(10));
    expect(store.applyRevocation(revocation(9, 'k1'))).toBe('superseded');
    expect(store.applyRevocation(revocation(10))).toBe('superseded');
    expect(store.applyRevocation(revocation(12, 'k1'))).toBe('applied');
    expect(store.applyRevocation(revocation(12, 'k1'))).toBe('duplicate');
    expect(store.applyRevocation(revocation(14))).toBe('applied');
    expect(store.applyRevocation(revocation(13))).toBe('duplicate');
    expect(store.get('t1')).toMatchObject({ tenantRevokedAt: 14n, tenantRevocationCause: 'TenantSuspended' });
  });

  it('holds a revocation for a tenant it has no state for yet', () => {
    expect(store.applyRevocation(revocation(7))).toBe('applied');
    expect(store.get('t1')).toMatchObject({ served: undefined, absence: 'unknown-tenant', tenantRevokedAt: 7n });
    store.applyState(state(6));
    expect(store.get('t1')).toMatchObject({ statePosition: 6n, tenantRevokedAt: 7n });
  });

  it('rejects malformed messages with OrbitalDecodeError and leaves the view as it was', () => {
    store.applyState(state(1));
    expect(() => store.applyState({ ...state(2), position: '2a' })).toThrow(OrbitalDecodeError);
    expect(() => store.applyState({ ...state(2), position: 2 as unknown as string })).toThrow(OrbitalDecodeError);
    expect(() => store.applyState({ ...state(2), view: { ...view(), status: 'paused' as never } })).toThrow('unknown tenant status');
    expect(() => store.applyState({ ...state(2), view: { ...view(), systems: undefined as never } })).toThrow(OrbitalDecodeError);
    expect(() => store.applyRevocation({ ...revocation(3), tenantId: '' })).toThrow(OrbitalDecodeError);
    expect(store.get('t1')?.statePosition).toBe(1n);
  });

  it('looks systems up without reaching Object.prototype', () => {
    store.applyState(state(1));
    expect(store.get('t1')?.served?.systems.get('constructor')).toBeUndefined();
  });

  it('becomes ready only when told', () => {
    expect(store.ready).toBe(false);
    store.markReady();
    expect(store.ready).toBe(true);
  });
});

describe('TenantViewStore.enforcedPolicies', () => {
  const at = (store: TenantViewStore, position: number, tenantId: string, policies: { policyId: string; version: number }[], over: Partial<TenantView> = {}, removed = false) =>
    store.applyState({
      kind: 'tenant-state',
      position: String(position),
      tenantId,
      removed,
      view: { tenantId, status: 'active', jurisdiction: 'EU', homeRegion: 'eu-central-1', allowedRegions: null, maxStalenessMs: 2000, systems: {}, keyLinks: {}, policies, ...over },
    });

  it('counts the served tenants per policy version, and moves them when a new version arrives', () => {
    const store = new TenantViewStore('eu-central-1');
    at(store, 1, 'a', [{ policyId: 'geo', version: 1 }]);
    at(store, 2, 'b', [{ policyId: 'geo', version: 1 }, { policyId: 'base', version: 3 }]);
    expect(store.enforcedPolicies()).toEqual([
      { policyId: 'base', version: 3, tenants: 1 },
      { policyId: 'geo', version: 1, tenants: 2 },
    ]);
    const before = store.policySetRevision;
    at(store, 3, 'a', [{ policyId: 'geo', version: 2 }]);
    expect(store.enforcedPolicies()).toEqual([
      { policyId: 'base', version: 3, tenants: 1 },
      { policyId: 'geo', version: 1, tenants: 1 },
      { policyId: 'geo', version: 2, tenants: 1 },
    ]);
    expect(store.policySetRevision).toBeGreaterThan(before);
    const after = store.policySetRevision;
    at(store, 4, 'b', [{ policyId: 'geo', version: 2 }, { policyId: 'base', version: 3 }]);
    expect(store.enforcedPolicies()).toEqual([
      { policyId: 'base', version: 3, tenants: 1 },
      { policyId: 'geo', version: 2, tenants: 2 },
    ]);
    expect(store.policySetRevision).toBeGreaterThan(after);
  });

  it('a tenant the region stops serving (geofence, removal) no longer counts; a stale message changes nothing', () => {
    const store = new TenantViewStore('eu-central-1');
    at(store, 5, 'a', [{ policyId: 'geo', version: 1 }]);
    at(store, 4, 'a', [{ policyId: 'geo', version: 9 }]);
    expect(store.enforcedPolicies()).toEqual([{ policyId: 'geo', version: 1, tenants: 1 }]);
    at(store, 6, 'a', [{ policyId: 'geo', version: 2 }], { allowedRegions: ['us-east-1'] });
    expect(store.enforcedPolicies()).toEqual([]);
    at(store, 7, 'a', [{ policyId: 'geo', version: 3 }]);
    at(store, 8, 'a', [{ policyId: 'geo', version: 3 }], {}, true);
    expect(store.enforcedPolicies()).toEqual([]);
  });

  it('the same version set again does not count as a change; views without policies (older bridges) count none', () => {
    const store = new TenantViewStore('eu-central-1');
    at(store, 1, 'a', [{ policyId: 'geo', version: 1 }]);
    const revision = store.policySetRevision;
    at(store, 2, 'a', [{ policyId: 'geo', version: 1 }], { status: 'suspended' });
    expect(store.policySetRevision).toBe(revision);
    store.applyState({ kind: 'tenant-state', position: '3', tenantId: 'b', removed: false, view: { tenantId: 'b', status: 'active', jurisdiction: 'EU', homeRegion: 'eu-central-1', allowedRegions: null, maxStalenessMs: 2000, systems: {}, keyLinks: {} } });
    expect(store.enforcedPolicies()).toEqual([{ policyId: 'geo', version: 1, tenants: 1 }]);
  });

  it('refuses a view whose policies are malformed', () => {
    const store = new TenantViewStore('eu-central-1');
    expect(() => at(store, 1, 'a', [{ policyId: 'geo', version: 0 }])).toThrow(OrbitalDecodeError);
    expect(() => at(store, 1, 'a', 'geo' as never)).toThrow(OrbitalDecodeError);
  });
});
