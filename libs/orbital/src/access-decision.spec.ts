import { AccessRequest, decideAccess, denial, DENIAL_REASONS, keyLinkUsable } from './access-decision';
import { KeyLinkView, RevocationMessage, TenantView } from './orbital.messages';
import { TenantViewStore } from './tenant-view.store';

const REGION = 'eu-central-1';
const NOW = 1_000_000;
const FRESH = NOW - 100;

const link = (keyLinkId: string, status: KeyLinkView['status'] = 'active'): KeyLinkView => ({
  keyLinkId,
  status,
  providerKind: 'pkcs11',
  mode: 'HYOK',
  keyReference: `pkcs11:token=t;object=${keyLinkId}`,
  algorithm: 'AES',
  keySize: 256,
  providerRegion: REGION,
});
const view = (over: Partial<TenantView> = {}): TenantView => ({
  tenantId: 't1',
  status: 'active',
  jurisdiction: 'EU',
  homeRegion: REGION,
  allowedRegions: null,
  maxStalenessMs: 2000,
  systems: { s1: { systemId: 's1', keyLinkId: 'k1', region: REGION }, s2: { systemId: 's2', keyLinkId: 'k2', region: 'us-east-1' } },
  keyLinks: { k1: link('k1'), k2: link('k2'), pending: link('pending', 'pending'), gone: link('gone', 'unlinked'), old: link('old', 'revoked') },
  ...over,
});

function storeWith(over: Partial<TenantView> = {}, position = 10): TenantViewStore {
  const store = new TenantViewStore(REGION);
  store.applyState({ kind: 'tenant-state', position: String(position), tenantId: 't1', removed: false, view: view(over) });
  store.markReady();
  return store;
}
const revoke = (store: TenantViewStore, position: number, keyLinkId?: string, cause: RevocationMessage['cause'] = 'KeyLinkRevoked') =>
  store.applyRevocation({ kind: 'revocation', position: String(position), cause, tenantId: 't1', ...(keyLinkId ? { keyLinkId } : {}), recordedAt: '' });

const req = (over: Partial<AccessRequest> = {}): AccessRequest => ({ tenantId: 't1', systemId: 's1', operation: 'unwrap', ...over });
const reason = (store: TenantViewStore, request = req(), lastHeartbeatAt = FRESH, now = NOW) => {
  const decision = decideAccess(store, REGION, now, lastHeartbeatAt, request);
  return decision.allowed ? 'allowed' : decision.reason;
};

describe('decideAccess', () => {
  it('allows an active tenant, system and link, and names the link the system uses', () => {
    const decision = decideAccess(storeWith(), REGION, NOW, FRESH, req());
    expect(decision).toMatchObject({ allowed: true, system: { systemId: 's1' }, keyLink: { keyLinkId: 'k1', keyReference: 'pkcs11:token=t;object=k1' } });
  });

  it('uses the link a blob names when given (unwrap of data keys made under another active link)', () => {
    expect(decideAccess(storeWith(), REGION, NOW, FRESH, req({ keyLinkId: 'k2' }))).toMatchObject({ allowed: true, keyLink: { keyLinkId: 'k2' } });
  });

  it('not-ready: before the worker caught up with the state topic', () => {
    const store = new TenantViewStore(REGION);
    store.applyState({ kind: 'tenant-state', position: '1', tenantId: 't1', removed: false, view: view() });
    expect(reason(store)).toBe('not-ready');
  });

  it('stale-view: no heartbeat for longer than the tenant bound (fail closed), and never heard one', () => {
    const store = storeWith({ maxStalenessMs: 500 });
    expect(reason(store, req(), NOW - 500)).toBe('allowed');
    expect(reason(store, req(), NOW - 501)).toBe('stale-view');
    expect(reason(store, req(), -Infinity)).toBe('stale-view');
  });

  it('stale-view: the default bound for a tenant it does not know', () => {
    const store = storeWith();
    expect(reason(store, req({ tenantId: 'nobody' }), NOW - 2001)).toBe('stale-view');
    expect(reason(store, req({ tenantId: 'nobody' }), NOW - 1999)).toBe('unknown-tenant');
  });

  it('unknown-tenant: never heard of, or removed from the region', () => {
    expect(reason(storeWith(), req({ tenantId: 't2' }))).toBe('unknown-tenant');
    const store = storeWith();
    store.applyState({ kind: 'tenant-state', position: '11', tenantId: 't1', removed: true, view: view() });
    expect(reason(store)).toBe('unknown-tenant');
  });

  it('tenant-suspended: by state, or by a revocation not yet reflected in the state', () => {
    expect(reason(storeWith({ status: 'suspended' }))).toBe('tenant-suspended');
    const store = storeWith();
    revoke(store, 11, undefined, 'TenantSuspended');
    expect(reason(store)).toBe('tenant-suspended');
  });

  it('tenant-offboarded: by state, by removal with an offboarded view, or by revocation', () => {
    expect(reason(storeWith({ status: 'offboarded' }))).toBe('tenant-offboarded');
    const removed = storeWith();
    removed.applyState({ kind: 'tenant-state', position: '11', tenantId: 't1', removed: true, view: view({ status: 'offboarded' }) });
    expect(reason(removed)).toBe('tenant-offboarded');
    const revoked = storeWith();
    revoke(revoked, 11, undefined, 'TenantOffboarded');
    expect(reason(revoked)).toBe('tenant-offboarded');
  });

  it('region-not-allowed: the geofence leaves this region out', () => {
    expect(reason(storeWith({ allowedRegions: ['us-east-1'] }))).toBe('region-not-allowed');
    expect(reason(storeWith({ allowedRegions: ['us-east-1', REGION] }))).toBe('allowed');
    // Defence in depth: a view the store holds is still checked against the region asked about.
    expect(decideAccess(storeWith({ allowedRegions: [REGION] }), 'ap-south-1', NOW, FRESH, req())).toEqual(denial('region-not-allowed'));
  });

  it('unknown-system: not registered (or deregistered), including prototype names', () => {
    expect(reason(storeWith(), req({ systemId: 's9' }))).toBe('unknown-system');
    expect(reason(storeWith(), req({ systemId: 'constructor' }))).toBe('unknown-system');
  });

  it('does not refuse a system outside its registered region (the geofence rules residency)', () => {
    expect(reason(storeWith(), req({ systemId: 's2' }))).toBe('allowed');
  });

  it('key-link-not-active: pending, or not a link of the tenant', () => {
    expect(reason(storeWith(), req({ keyLinkId: 'pending' }))).toBe('key-link-not-active');
    expect(reason(storeWith(), req({ keyLinkId: 'other-tenants-link' }))).toBe('key-link-not-active');
    expect(reason(storeWith({ systems: { s1: { systemId: 's1', keyLinkId: 'missing', region: REGION } } }))).toBe('key-link-not-active');
  });

  it('key-link-revoked: revoked or unlinked by state, by a revocation mark, or by a tenant-wide link cut', () => {
    expect(reason(storeWith(), req({ keyLinkId: 'old' }))).toBe('key-link-revoked');
    expect(reason(storeWith(), req({ keyLinkId: 'gone' }))).toBe('key-link-revoked');
    const marked = storeWith();
    revoke(marked, 11, 'k1');
    expect(reason(marked)).toBe('key-link-revoked');
    expect(reason(marked, req({ systemId: 's2' }))).toBe('allowed');
    const cut = storeWith();
    revoke(cut, 11);
    expect(reason(cut, req({ systemId: 's2' }))).toBe('key-link-revoked');
  });

  it('an older state applied after a revocation does not resurrect the link; a newer one (restore) does', () => {
    const store = storeWith({}, 10);
    revoke(store, 12, 'k1');
    store.applyState({ kind: 'tenant-state', position: '11', tenantId: 't1', removed: false, view: view() });
    expect(reason(store)).toBe('key-link-revoked');
    store.applyState({ kind: 'tenant-state', position: '13', tenantId: 't1', removed: false, view: view() });
    expect(reason(store)).toBe('allowed');
  });

  it('returns shared denials (no allocation per denied request) and covers every reason', () => {
    expect(decideAccess(storeWith(), REGION, NOW, FRESH, req({ systemId: 'x' }))).toBe(denial('unknown-system'));
    expect(Object.isFrozen(denial('stale-view'))).toBe(true);
    expect(DENIAL_REASONS).toHaveLength(9);
  });
});

describe('keyLinkUsable', () => {
  it('is true only for an active link of an active, served, unrevoked tenant', () => {
    expect(keyLinkUsable(storeWith(), 't1', 'k1')).toBe(true);
    expect(keyLinkUsable(storeWith(), 't1', 'pending')).toBe(false);
    expect(keyLinkUsable(storeWith(), 't2', 'k1')).toBe(false);
    expect(keyLinkUsable(storeWith({ status: 'suspended' }), 't1', 'k1')).toBe(false);
    const marked = storeWith();
    revoke(marked, 11, 'k1');
    expect(keyLinkUsable(marked, 't1', 'k1')).toBe(false);
    expect(keyLinkUsable(marked, 't1', 'k2')).toBe(true);
    revoke(marked, 12, undefined, 'TenantSuspended');
    expect(keyLinkUsable(marked, 't1', 'k2')).toBe(false);
  });
});
