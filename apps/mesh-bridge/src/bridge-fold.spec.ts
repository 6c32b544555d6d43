import type { RecordedEvent } from '@cmk/event-store';
import { MESH_POSITION_HEADER, MeshMessage } from '@cmk/mesh';
import { decodeMessage, TenantView } from '@cmk/orbital';
import { BridgeFold, revocationOf, servingRegions } from './bridge-fold';
import { bridgeTopics } from './topics';

const REGIONS = ['eu-central-1', 'eu-west-1', 'us-east-1'];
const topics = bridgeTopics('p.', REGIONS);
const delta = (region: string) => topics.regionDeltas.get(region)!;

let position = 0n;
const event = (streamName: string, type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: `e${++position}`,
  streamName,
  revision: 0,
  position,
  type,
  data,
  metadata: {},
  recordedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, Number(position))),
});
const onboard = (tenantId: string, jurisdiction = 'EU') =>
  event(`tenant-${tenantId}`, 'TenantOnboarded', { tenantId, jurisdiction, homeRegion: 'eu-central-1', displayName: tenantId, dataClassification: 'internal', contacts: [] });
const policy = (policyId: string, version: number, eu: string[]) =>
  event(`policy-${policyId}`, version === 1 ? 'PolicyDefined' : 'PolicyRevised', { policyId, name: policyId, version, document: { geofence: { unwrapRegions: { EU: eu } } } });
const assign = (scope: string, policyId: string) => event(`policyscope-${scope}`, 'PolicyAssigned', { scope, policyId, version: 'latest' });

/** Messages as a consumer sees them: key, position header and the decoded body's fields. */
type Decoded = { key: string; header?: string } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const decoded = (messages: MeshMessage[] | undefined): Decoded[] =>
  (messages ?? []).map((m) => ({ key: m.key, header: m.headers?.[MESH_POSITION_HEADER], ...decodeMessage(m.value) }));

beforeEach(() => (position = 0n));

describe('servingRegions', () => {
  const view = (status: TenantView['status'], allowedRegions: string[] | null) => ({ status, allowedRegions }) as TenantView;
  it('routes by the geofence among the configured regions', () => {
    expect(servingRegions(view('active', null), REGIONS)).toEqual(REGIONS);
    expect(servingRegions(view('suspended', ['eu-west-1', 'ap-south-1']), REGIONS)).toEqual(['eu-west-1']);
    expect(servingRegions(view('active', []), REGIONS)).toEqual([]);
    expect(servingRegions(view('offboarded', null), REGIONS)).toEqual([]);
    expect(servingRegions(undefined, REGIONS)).toEqual([]);
  });
});

describe('revocationOf', () => {
  it('maps the four revoking events, with the key link only for link causes', () => {
    expect(revocationOf(event('keylink-k1', 'KeyLinkRevoked', { keyLinkId: 'k1', tenantId: 't1', reason: 'r' }))).toEqual({
      kind: 'revocation',
      position: '1',
      cause: 'KeyLinkRevoked',
      tenantId: 't1',
      keyLinkId: 'k1',
      recordedAt: '2030-01-01T00:00:01.000Z',
    });
    expect(revocationOf(event('keylink-k1', 'KeyUnlinked', { keyLinkId: 'k1', tenantId: 't1' }))).toMatchObject({ cause: 'KeyUnlinked', keyLinkId: 'k1' });
    expect(revocationOf(event('tenant-t1', 'TenantSuspended', { tenantId: 't1' }))).not.toHaveProperty('keyLinkId');
    expect(revocationOf(event('tenant-t1', 'TenantOffboarded', { tenantId: 't1' }))).toMatchObject({ cause: 'TenantOffboarded' });
  });

  it('ignores everything else', () => {
    expect(revocationOf(event('keylink-k1', 'KeyLinkRestored', { keyLinkId: 'k1', tenantId: 't1' }))).toBeNull();
    expect(revocationOf(event('tenant-t1', 'TenantResumed', { tenantId: 't1' }))).toBeNull();
    expect(revocationOf(event('tenant-t1', 'TenantSuspended', {}))).toBeNull();
  });
});

describe('BridgeFold.plan', () => {
  it('one state message per changed tenant per batch, at the position of its last change, to every region it may be served in', () => {
    const fold = new BridgeFold(REGIONS, topics);
    const plan = fold.plan([onboard('a'), onboard('b', 'US'), event('tenant-a', 'TenantUpdated', { tenantId: 'a', changes: { homeRegion: 'eu-west-1' } })]);
    expect(decoded(plan.state).map((m) => [m.key, m.header, m.position])).toEqual([
      ['a', '3', '3'],
      ['b', '2', '2'],
    ]);
    expect(plan.revocations).toEqual([]);
    for (const region of REGIONS) expect(decoded(plan.deltas.get(delta(region))).map((m) => m.key)).toEqual(['a', 'b']);
    expect(plan.last).toBe(3n);
  });

  it('revocations go on their own lane, in event order, each with the regions that served the tenant just before', () => {
    const fold = new BridgeFold(REGIONS, topics);
    fold.plan([policy('geo', 1, ['eu-west-1']), assign('global', 'geo'), onboard('a')]);
    const plan = fold.plan([
      event('keylink-k1', 'KeyLinked', { keyLinkId: 'k1', tenantId: 'a' }),
      event('keylink-k1', 'KeyLinkRevoked', { keyLinkId: 'k1', tenantId: 'a' }),
      event('tenant-a', 'TenantOffboarded', { tenantId: 'a' }),
    ]);
    expect(decoded(plan.revocations).map((m) => [m.key, m.header, m.cause])).toEqual([
      ['a', '5', 'KeyLinkRevoked'],
      ['a', '6', 'TenantOffboarded'],
    ]);
    expect(plan.dispatches).toEqual([
      { tenantId: 'a', keyLinkId: 'k1', cause: 'KeyLinkRevoked', position: 5n, regions: ['eu-west-1'] },
      { tenantId: 'a', keyLinkId: undefined, cause: 'TenantOffboarded', position: 6n, regions: ['eu-west-1'] },
    ]);
    // Offboarded: removed on the state topic and in the one region that served it; never sent elsewhere.
    expect(decoded(plan.state)).toMatchObject([{ key: 'a', header: '6', removed: true, view: { status: 'offboarded' } }]);
    expect(decoded(plan.deltas.get(delta('eu-west-1')))).toMatchObject([{ key: 'a', removed: true }]);
    expect([...plan.deltas.keys()]).toEqual([delta('eu-west-1')]);
  });

  it('a geofence change moves a tenant: removed where it leaves, a full view where it arrives', () => {
    const fold = new BridgeFold(REGIONS, topics);
    fold.plan([policy('geo', 1, ['eu-central-1', 'eu-west-1']), assign('global', 'geo'), onboard('a'), onboard('us', 'US')]);
    const plan = fold.plan([policy('geo', 2, ['eu-west-1', 'us-east-1'])]);
    expect(decoded(plan.deltas.get(delta('eu-central-1')))).toMatchObject([{ key: 'a', removed: true, header: '5' }, { key: 'us', removed: false }]);
    expect(decoded(plan.deltas.get(delta('eu-west-1')))).toMatchObject([{ key: 'a', removed: false, view: { allowedRegions: ['eu-west-1', 'us-east-1'] } }, { key: 'us' }]);
    expect(decoded(plan.deltas.get(delta('us-east-1')))).toMatchObject([{ key: 'a', removed: false }, { key: 'us' }]);
    // The US tenant's geofence is untouched, but its view names the new version it is now governed by.
    expect(decoded(plan.state)).toMatchObject([{ key: 'a' }, { key: 'us', view: { allowedRegions: null, policies: [{ policyId: 'geo', version: 2 }] } }]);
  });

  it('after a replay (nothing to send) it routes exactly as the bridge that published those events did', () => {
    const history = [policy('geo', 1, ['eu-central-1']), assign('global', 'geo'), onboard('a')];
    const next = policy('geo', 2, ['eu-west-1']);
    const live = new BridgeFold(REGIONS, topics);
    live.plan(history);
    const restarted = new BridgeFold(REGIONS, topics);
    restarted.replay(history);
    restarted.settle();
    const [a, b] = [live.plan([next]), restarted.plan([next])];
    expect(decoded(b.state)).toEqual(decoded(a.state));
    expect([...b.deltas].map(([t, m]) => [t, decoded(m)])).toEqual([...a.deltas].map(([t, m]) => [t, decoded(m)]));
    expect(decoded(b.deltas.get(delta('eu-central-1')))).toMatchObject([{ removed: true }]);
  });
});
