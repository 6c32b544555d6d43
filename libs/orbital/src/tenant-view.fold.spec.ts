import type { PolicyDocument } from '@cmk/policy';
import { DEFAULT_MAX_STALENESS_MS, TenantView } from './orbital.messages';
import { emptyWorld, foldAll, foldEvent, GovernanceRecord, TenantViewChange, TenantViewWorld, viewOf } from './tenant-view.fold';

/** A history builder: events get consecutive positions, as in the event store. */
function history() {
  const events: GovernanceRecord[] = [];
  const add = (streamName: string, type: string, data: unknown) => {
    events.push({ streamName, position: BigInt(events.length + 1), type, data });
    return api;
  };
  const api = {
    events,
    onboard: (tenantId: string, jurisdiction = 'EU', homeRegion = 'eu-central-1') =>
      add(`tenant-${tenantId}`, 'TenantOnboarded', {
        tenantId,
        displayName: `T ${tenantId}`,
        jurisdiction,
        homeRegion,
        dataClassification: 'internal',
        contacts: [],
      }),
    tenant: (tenantId: string, type: string, data: Record<string, unknown> = {}) => add(`tenant-${tenantId}`, type, { tenantId, reason: 'r', ...data }),
    link: (tenantId: string, keyLinkId: string) =>
      add(`keylink-${keyLinkId}`, 'KeyLinked', {
        keyLinkId,
        tenantId,
        providerKind: 'pkcs11',
        mode: 'HYOK',
        keyReference: `ref-${keyLinkId}`,
        algorithm: 'AES',
        keySize: 256,
        providerRegion: 'eu-central-1',
      }),
    keyLink: (tenantId: string, keyLinkId: string, type: string, data: Record<string, unknown> = {}) =>
      add(`keylink-${keyLinkId}`, type, { keyLinkId, tenantId, reason: 'r', ...data }),
    register: (tenantId: string, systemId: string, keyLinkId: string, region = 'eu-central-1') =>
      add(`system-${systemId}`, 'SystemRegistered', { systemId, tenantId, name: systemId, region, keyLinkId }),
    system: (tenantId: string, systemId: string, type: string, data: Record<string, unknown> = {}) =>
      add(`system-${systemId}`, type, { systemId, tenantId, reason: 'r', ...data }),
    define: (policyId: string, document: PolicyDocument) => add(`policy-${policyId}`, 'PolicyDefined', { policyId, name: policyId, version: 1, document }),
    revise: (policyId: string, version: number, document: PolicyDocument) => add(`policy-${policyId}`, 'PolicyRevised', { policyId, version, document }),
    assign: (scope: string, policyId: string, version: number | 'latest' = 'latest') =>
      add(`policyscope-${scope}`, 'PolicyAssigned', { scope, policyId, version }),
    unassign: (scope: string, policyId: string) => add(`policyscope-${scope}`, 'PolicyUnassigned', { scope, policyId }),
    raw: add,
  };
  return api;
}

const geofence = (unwrapRegions: Record<string, string[]>): PolicyDocument => ({ geofence: { unwrapRegions } });

/** Folds all events and returns the changes of the last one. */
function changesOfLast(events: GovernanceRecord[]): { world: TenantViewWorld; changes: TenantViewChange[] } {
  const world = foldAll(events.slice(0, -1));
  return { world, changes: foldEvent(world, events[events.length - 1]) };
}

const changedTenants = (events: GovernanceRecord[]) => changesOfLast(events).changes.map((c) => c.tenantId);

describe('tenant view fold', () => {
  describe('views', () => {
    it('an onboarded tenant: active, its jurisdiction and home region, no geofence, the default staleness bound', () => {
      const world = foldAll(history().onboard('t1', 'US', 'us-east-1').events);
      expect(viewOf(world, 't1')).toEqual<TenantView>({
        tenantId: 't1',
        status: 'active',
        jurisdiction: 'US',
        homeRegion: 'us-east-1',
        allowedRegions: null,
        maxStalenessMs: DEFAULT_MAX_STALENESS_MS,
        systems: {},
        keyLinks: {},
        policies: [],
      });
    });

    it('an unknown tenant has no view', () => {
      expect(viewOf(emptyWorld(), 'nobody')).toBeUndefined();
    });

    it('key links with their status through the lifecycle, and registered systems only', () => {
      const h = history()
        .onboard('t1')
        .link('t1', 'k1')
        .link('t1', 'k2')
        .keyLink('t1', 'k1', 'KeyLinkActivated')
        .keyLink('t1', 'k2', 'KeyLinkRevoked', { previousStatus: 'pending' })
        .register('t1', 's1', 'k1')
        .register('t1', 's2', 'k1', 'eu-west-1')
        .system('t1', 's2', 'SystemRebound', { fromKeyLinkId: 'k1', toKeyLinkId: 'k2' })
        .register('t1', 's3', 'k1')
        .system('t1', 's3', 'SystemDeregistered');
      const view = viewOf(foldAll(h.events), 't1')!;
      expect(view.keyLinks).toEqual({
        k1: { keyLinkId: 'k1', status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'ref-k1', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
        k2: { keyLinkId: 'k2', status: 'revoked', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'ref-k2', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' },
      });
      expect(view.systems).toEqual({
        s1: { systemId: 's1', keyLinkId: 'k1', region: 'eu-central-1' },
        s2: { systemId: 's2', keyLinkId: 'k2', region: 'eu-west-1' },
      });
    });

    it('restore brings a revoked link back to where it was; unlink is final', () => {
      const h = history()
        .onboard('t1')
        .link('t1', 'k1')
        .keyLink('t1', 'k1', 'KeyLinkActivated')
        .keyLink('t1', 'k1', 'KeyLinkRevoked', { previousStatus: 'active' })
        .keyLink('t1', 'k1', 'KeyLinkRestored', { restoredStatus: 'active' });
      expect(viewOf(foldAll(h.events), 't1')!.keyLinks.k1.status).toBe('active');
      h.keyLink('t1', 'k1', 'KeyLinkRevoked', { previousStatus: 'active' }).keyLink('t1', 'k1', 'KeyUnlinked');
      expect(viewOf(foldAll(h.events), 't1')!.keyLinks.k1.status).toBe('unlinked');
    });

    it('keeps tenants apart', () => {
      const h = history().onboard('t1').onboard('t2').link('t1', 'k1').register('t1', 's1', 'k1').tenant('t2', 'TenantSuspended');
      const world = foldAll(h.events);
      expect(viewOf(world, 't1')).toMatchObject({ status: 'active', keyLinks: { k1: {} }, systems: { s1: {} } });
      expect(viewOf(world, 't2')).toMatchObject({ status: 'suspended', keyLinks: {}, systems: {} });
    });

    it('status: suspended, resumed, offboarded; a home region update', () => {
      const h = history().onboard('t1').tenant('t1', 'TenantSuspended');
      expect(viewOf(foldAll(h.events), 't1')!.status).toBe('suspended');
      h.tenant('t1', 'TenantResumed').tenant('t1', 'TenantUpdated', { changes: { homeRegion: 'eu-west-1', displayName: 'x' } });
      expect(viewOf(foldAll(h.events), 't1')).toMatchObject({ status: 'active', homeRegion: 'eu-west-1' });
      h.tenant('t1', 'TenantOffboarded');
      expect(viewOf(foldAll(h.events), 't1')!.status).toBe('offboarded');
    });
  });

  describe('jurisdiction scope', () => {
    it('applies to the tenants of that jurisdiction only, and changes their views when assigned', () => {
      const h = history().onboard('eu', 'EU').onboard('us', 'US', 'us-east-1').define('eu-only', geofence({ EU: ['eu-central-1'], US: ['us-west-2'] }));
      h.assign('jurisdiction:EU', 'eu-only');
      expect(changesOfLast(h.events).changes.map((c) => c.tenantId)).toEqual(['eu']);
      const world = foldAll(h.events);
      expect(viewOf(world, 'eu')!.allowedRegions).toEqual(['eu-central-1']);
      expect(viewOf(world, 'us')!.allowedRegions).toBeNull();
      h.revise('eu-only', 2, geofence({ EU: ['eu-west-1'] }));
      expect(changesOfLast(h.events).changes.map((c) => c.tenantId)).toEqual(['eu']);
    });
  });

  describe('fail-closed bound (maxStalenessMs)', () => {
    it('is the smallest failClosed.maxStalenessMs in force; a revision or an unassignment changes the view', () => {
      const h = history().onboard('t').onboard('u').define('slow', { failClosed: { maxStalenessMs: 5000 } }).assign('global', 'slow');
      expect(viewOf(foldAll(h.events), 't')!.maxStalenessMs).toBe(5000);
      h.define('tight', { failClosed: { maxStalenessMs: 750 } }).assign('t', 'tight');
      const world = foldAll(h.events);
      expect(viewOf(world, 't')!.maxStalenessMs).toBe(750);
      expect(viewOf(world, 'u')!.maxStalenessMs).toBe(5000);
      h.revise('tight', 2, { failClosed: { maxStalenessMs: 400 } });
      expect(changesOfLast(h.events).changes.map((c) => [c.tenantId, c.after?.maxStalenessMs])).toEqual([['t', 400]]);
      h.unassign('global', 'slow').unassign('t', 'tight');
      expect(viewOf(foldAll(h.events), 't')!.maxStalenessMs).toBe(DEFAULT_MAX_STALENESS_MS);
    });
  });

  describe('geofence (allowedRegions)', () => {
    it('comes from a global policy for the tenant jurisdiction; other jurisdictions stay unrestricted', () => {
      const h = history()
        .onboard('eu', 'EU')
        .onboard('us', 'US', 'us-east-1')
        .define('p', geofence({ EU: ['eu-west-1', 'eu-central-1'] }))
        .assign('global', 'p');
      const world = foldAll(h.events);
      expect(viewOf(world, 'eu')!.allowedRegions).toEqual(['eu-central-1', 'eu-west-1']);
      expect(viewOf(world, 'us')!.allowedRegions).toBeNull();
    });

    it('is the intersection over every policy in force that names the jurisdiction (global and tenant scope)', () => {
      const h = history()
        .onboard('t1', 'EU')
        .onboard('t2', 'EU')
        .define('wide', geofence({ EU: ['eu-central-1', 'eu-west-1', 'eu-north-1'] }))
        .define('narrow', geofence({ EU: ['eu-west-1', 'eu-north-1', 'eu-south-1'], US: ['us-east-1'] }))
        .define('silent', { rotation: { maxAgeDays: 90 } })
        .assign('global', 'wide')
        .assign('global', 'silent')
        .assign('t1', 'narrow');
      const world = foldAll(h.events);
      expect(viewOf(world, 't1')!.allowedRegions).toEqual(['eu-north-1', 'eu-west-1']);
      expect(viewOf(world, 't2')!.allowedRegions).toEqual(['eu-central-1', 'eu-north-1', 'eu-west-1']);
    });

    it('an empty intersection allows no region at all (fail closed), not every region', () => {
      const h = history()
        .onboard('t1', 'EU')
        .define('a', geofence({ EU: ['eu-central-1'] }))
        .define('b', geofence({ EU: ['eu-west-1'] }))
        .assign('global', 'a')
        .assign('t1', 'b');
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toEqual([]);
    });

    it('follows the latest version, or stays on a pinned one', () => {
      const h = history()
        .onboard('t1', 'EU')
        .onboard('t2', 'EU')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .assign('t1', 'p')
        .assign('t2', 'p', 1)
        .revise('p', 2, geofence({ EU: ['eu-west-1'] }));
      const world = foldAll(h.events);
      expect(viewOf(world, 't1')!.allowedRegions).toEqual(['eu-west-1']);
      expect(viewOf(world, 't2')!.allowedRegions).toEqual(['eu-central-1']);
    });

    it('a pinned version can be re-pinned, and unassigning lifts the restriction', () => {
      const h = history()
        .onboard('t1', 'EU')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .revise('p', 2, geofence({ EU: ['eu-west-1'] }))
        .assign('t1', 'p', 1);
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toEqual(['eu-central-1']);
      h.assign('t1', 'p', 2);
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toEqual(['eu-west-1']);
      h.unassign('t1', 'p');
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toBeNull();
    });

    it('ignores assignments of policies it never saw defined, and pinned versions that do not exist', () => {
      const h = history().onboard('t1', 'EU').assign('global', 'ghost').define('p', geofence({ EU: ['eu-central-1'] })).assign('t1', 'p', 7);
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toBeNull();
    });

    it('is not fooled by jurisdiction names that are Object.prototype keys', () => {
      const h = history().onboard('t1', 'constructor').define('p', geofence({ EU: ['eu-central-1'] })).assign('global', 'p');
      expect(viewOf(foldAll(h.events), 't1')!.allowedRegions).toBeNull();
    });
  });

  describe('changes', () => {
    it('an event of a tenant changes that tenant only, with the view before and after', () => {
      const h = history().onboard('t1').onboard('t2').link('t1', 'k1');
      const { changes } = changesOfLast(h.events);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ tenantId: 't1', position: 3n, before: { keyLinks: {} }, after: { keyLinks: { k1: { status: 'pending' } } } });
    });

    it('onboarding is a change with no view before', () => {
      const { changes } = changesOfLast(history().onboard('t1').events);
      expect(changes).toEqual([{ tenantId: 't1', position: 1n, before: undefined, after: expect.objectContaining({ tenantId: 't1' }) }]);
    });

    it('a display name update changes no view', () => {
      expect(changedTenants(history().onboard('t1').tenant('t1', 'TenantUpdated', { changes: { displayName: 'new' } }).events)).toEqual([]);
    });

    it('a global assignment changes every tenant: the geofence of its jurisdiction, and the version in force of all', () => {
      const h = history()
        .onboard('eu1', 'EU')
        .onboard('us1', 'US')
        .onboard('eu2', 'EU')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .assign('global', 'p');
      const { changes } = changesOfLast(h.events);
      expect(changes.map((c) => [c.tenantId, c.after.allowedRegions, c.after.policies])).toEqual([
        ['eu1', ['eu-central-1'], [{ policyId: 'p', version: 1 }]],
        ['us1', null, [{ policyId: 'p', version: 1 }]],
        ['eu2', ['eu-central-1'], [{ policyId: 'p', version: 1 }]],
      ]);
    });

    it('a revision of a globally assigned policy changes every tenant it applies to', () => {
      const h = history()
        .onboard('a', 'EU')
        .onboard('b', 'US')
        .onboard('c', 'CH')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .assign('global', 'p')
        .revise('p', 2, geofence({ EU: ['eu-central-1'], US: ['us-east-1'], CH: ['on-prem-zrh1'] }));
      const { changes } = changesOfLast(h.events);
      // Every governed tenant hears of version 2, also the EU tenant whose geofence it leaves as it was.
      expect(changes.map((c) => [c.tenantId, c.before?.allowedRegions, c.after.allowedRegions, c.after.policies])).toEqual([
        ['a', ['eu-central-1'], ['eu-central-1'], [{ policyId: 'p', version: 2 }]],
        ['b', null, ['us-east-1'], [{ policyId: 'p', version: 2 }]],
        ['c', null, ['on-prem-zrh1'], [{ policyId: 'p', version: 2 }]],
      ]);
    });

    it('a policy in force at two scopes is named once per version; a pinned older version beside the latest is named too', () => {
      const h = history()
        .onboard('t1', 'EU')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .define('q', geofence({ EU: ['eu-central-1'] }))
        .revise('p', 2, geofence({ EU: ['eu-central-1'] }))
        .assign('global', 'q')
        .assign('global', 'p')
        .assign('t1', 'p')
        .assign('jurisdiction:EU', 'p', 1);
      expect(viewOf(foldAll(h.events), 't1')!.policies).toEqual([
        { policyId: 'p', version: 1 },
        { policyId: 'p', version: 2 },
        { policyId: 'q', version: 1 },
      ]);
    });

    it('a revision changes tenants that follow the latest version, never those pinned to an older one', () => {
      const h = history()
        .onboard('follows', 'EU')
        .onboard('pinned', 'EU')
        .onboard('other', 'EU')
        .define('p', geofence({ EU: ['eu-central-1'] }))
        .assign('follows', 'p')
        .assign('pinned', 'p', 1)
        .revise('p', 2, geofence({ EU: ['eu-west-1'] }));
      expect(changedTenants(h.events)).toEqual(['follows']);
    });

    it('defining a policy changes nobody', () => {
      expect(changedTenants(history().onboard('t1').define('p', geofence({ EU: ['eu-central-1'] })).events)).toEqual([]);
    });

    it('a tenant-scope assignment changes that tenant only', () => {
      const h = history().onboard('t1').onboard('t2').define('p', geofence({ EU: ['eu-central-1'] })).assign('t2', 'p');
      expect(changedTenants(h.events)).toEqual(['t2']);
    });

    it('an assignment for a tenant not onboarded yet applies once it is onboarded', () => {
      const h = history().define('p', geofence({ EU: ['eu-central-1'] })).assign('t1', 'p');
      expect(changedTenants(h.events)).toEqual([]);
      h.onboard('t1');
      expect(changesOfLast(h.events).changes[0].after.allowedRegions).toEqual(['eu-central-1']);
    });

    it('events of unknown categories, unknown types or odd stream names change nothing and are harmless', () => {
      const h = history().onboard('t1');
      const world = foldAll(h.events);
      expect(foldEvent(world, { streamName: 'enforcement-t1', position: 2n, type: 'RevocationDispatched', data: { tenantId: 't1' } })).toEqual([]);
      expect(foldEvent(world, { streamName: 'tenant-t1', position: 3n, type: 'SomethingNew', data: null })).toEqual([]);
      expect(foldEvent(world, { streamName: 'nostream', position: 4n, type: 'TenantOffboarded', data: {} })).toEqual([]);
      expect(foldEvent(world, { streamName: 'keylink-k9', position: 5n, type: 'KeyLinkActivated', data: { keyLinkId: 'k9', tenantId: 't1' } })).toEqual([]);
      expect(viewOf(world, 't1')!.status).toBe('active');
    });

    it('after offboarding the view is frozen: later link events and global policy changes change nothing', () => {
      const h = history().onboard('gone', 'EU').onboard('stays', 'EU').link('gone', 'k1').keyLink('gone', 'k1', 'KeyLinkRevoked', { previousStatus: 'pending' });
      h.tenant('gone', 'TenantOffboarded');
      const atOffboarding = changesOfLast(h.events).changes[0].after;
      expect(atOffboarding).toMatchObject({ status: 'offboarded', keyLinks: { k1: { status: 'revoked' } } });
      h.keyLink('gone', 'k1', 'KeyUnlinked');
      expect(changedTenants(h.events)).toEqual([]);
      h.define('p', geofence({ EU: ['eu-central-1'] })).assign('global', 'p');
      expect(changedTenants(h.events)).toEqual(['stays']);
      h.tenant('gone', 'TenantResumed');
      expect(changedTenants(h.events)).toEqual([]);
      expect(viewOf(foldAll(h.events), 'gone')).toEqual(atOffboarding);
    });

    it('is deterministic: the changes folded one by one always end in the final views', () => {
      const h = history()
        .onboard('a', 'EU')
        .onboard('b', 'US')
        .define('p', geofence({ EU: ['eu-central-1', 'eu-west-1'], US: ['us-east-1'] }))
        .assign('global', 'p')
        .link('a', 'k1')
        .register('a', 's1', 'k1')
        .revise('p', 2, geofence({ EU: ['eu-west-1'] }))
        .tenant('b', 'TenantSuspended')
        .unassign('global', 'p');
      const world = emptyWorld();
      const last = new Map<string, TenantView>();
      for (const e of h.events) for (const c of foldEvent(world, e)) last.set(c.tenantId, c.after);
      expect(Object.fromEntries(last)).toEqual({ a: viewOf(foldAll(h.events), 'a'), b: viewOf(foldAll(h.events), 'b') });
    });
  });
  describe('tenant keys (L2 registry)', () => {
    const generated = (keyLinkId: string, l2Id: string, l2Version: number, over: Record<string, unknown> = {}) =>
      ['TenantKeyGenerated', { keyLinkId, tenantId: 't1', l2Id, l2Version, wrappedL2: `w-${l2Id}`, l2Fingerprint: `kcv:${l2Id.slice(0, 6)}`, region: 'eu-central-1', workerId: 'w1', ...over }] as const;
    const rewrapped = (l2Id: string, l1KeyVersion: string) =>
      ['TenantKeyRewrapped', { keyLinkId: 'k1', tenantId: 't1', l2Id, wrappedL2: `w-${l2Id}@${l1KeyVersion}`, l1KeyVersion, region: 'eu-central-1', workerId: 'w2' }] as const;
    const base = () => history().onboard('t1').link('t1', 'k1').keyLink('t1', 'k1', 'KeyLinkActivated');
    const link = (events: GovernanceRecord[]) => viewOf(foldAll(events), 't1')!.keyLinks.k1;

    it('registers the first L2 key of a version; a second one for the same version changes nothing', () => {
      const h = base();
      h.raw('tenantkey-k1', ...generated('k1', 'aaaaaa01', 1));
      const { changes } = changesOfLast(h.events);
      expect(changes).toHaveLength(1);
      expect(changes[0].before!.keyLinks.k1.tenantKeys).toBeUndefined(); // the view before is not changed in place
      expect(changes[0].after.keyLinks.k1.tenantKeys).toEqual([{ l2Id: 'aaaaaa01', l2Version: 1, wrappedL2: 'w-aaaaaa01', l2Fingerprint: 'kcv:aaaaaa' }]);
      h.raw('tenantkey-k1', ...generated('k1', 'bbbbbb01', 1, { workerId: 'w2' }));
      expect(changedTenants(h.events)).toEqual([]);
      expect(link(h.events).tenantKeys!.map((k) => k.l2Id)).toEqual(['aaaaaa01']);
    });

    it('an L2 rotation request raises the sealing version; older versions stay registered', () => {
      const h = base();
      h.raw('tenantkey-k1', ...generated('k1', 'aaaaaa01', 1));
      expect(link(h.events).tenantKeyVersion).toBeUndefined();
      h.keyLink('t1', 'k1', 'TenantKeyRotationRequested');
      expect(changedTenants(h.events)).toEqual(['t1']);
      h.raw('tenantkey-k1', ...generated('k1', 'bbbbbb01', 2));
      expect(link(h.events)).toMatchObject({ tenantKeyVersion: 2, tenantKeys: [{ l2Id: 'aaaaaa01', l2Version: 1 }, { l2Id: 'bbbbbb01', l2Version: 2 }] });
    });

    it('an L1 version change is in the view; the first re-wrap under it wins, one for a superseded L1 version is ignored', () => {
      const h = base();
      h.raw('tenantkey-k1', ...generated('k1', 'aaaaaa01', 1, { l1KeyVersion: 'v1' }));
      h.keyLink('t1', 'k1', 'KeyVersionRotatedAtProvider', { previousVersion: 'v1', keyVersion: 'v2', fingerprint: 'kv:2' });
      expect(link(h.events).l1KeyVersion).toBe('v2');
      h.raw('tenantkey-k1', ...rewrapped('aaaaaa01', 'v2'));
      expect(link(h.events).tenantKeys![0]).toMatchObject({ wrappedL2: 'w-aaaaaa01@v2', l1KeyVersion: 'v2' });
      h.raw('tenantkey-k1', ...rewrapped('aaaaaa01', 'v2')); // another worker did it too
      expect(changedTenants(h.events)).toEqual([]);
      h.keyLink('t1', 'k1', 'KeyLinkRotated', { previousVersion: 'v2', keyVersion: 'v3', fingerprint: 'kv:3' });
      h.raw('tenantkey-k1', ...rewrapped('aaaaaa01', 'v2')); // late, for the version before
      expect(changedTenants(h.events)).toEqual([]);
      expect(link(h.events).tenantKeys![0]).toMatchObject({ wrappedL2: 'w-aaaaaa01@v2', l1KeyVersion: 'v2' });
    });

    it('reports naming another tenant or an unknown link, or missing fields, change nothing', () => {
      const h = base().onboard('t2').link('t2', 'k2');
      h.raw('tenantkey-k2', ...generated('k2', 'aaaaaa01', 1));
      expect(changedTenants(h.events)).toEqual([]);
      h.raw('tenantkey-k9', ...generated('k9', 'aaaaaa01', 1));
      expect(changedTenants(h.events)).toEqual([]);
      h.raw('tenantkey-k1', 'TenantKeyGenerated', { keyLinkId: 'k1', tenantId: 't1', l2Id: 'aaaaaa01', wrappedL2: 'w' });
      expect(changedTenants(h.events)).toEqual([]);
      expect(viewOf(foldAll(h.events), 't2')!.keyLinks.k2.tenantKeys).toBeUndefined();
    });
  });
});
