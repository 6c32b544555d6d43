import { TenantViewStore, WorkerStatusMessage } from '@cmk/orbital';
import { StatusReporter } from './status-reporter';

const view = (tenantId: string, version: number) => ({
  tenantId,
  status: 'active' as const,
  jurisdiction: 'EU',
  homeRegion: 'eu-central-1',
  allowedRegions: null,
  maxStalenessMs: 2000,
  systems: {},
  keyLinks: {},
  policies: [{ policyId: 'geo', version }],
});

describe('StatusReporter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('reports at start, every interval, soon after the enforced set changes, and a last time on stop', () => {
    const store = new TenantViewStore('eu-central-1');
    const sent: WorkerStatusMessage[] = [];
    const reporter = new StatusReporter({ workerId: 'w1', region: 'eu-central-1', store, intervalMs: 10_000, settleMs: 50, publish: (m) => sent.push(m) });
    reporter.start();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'worker-status', workerId: 'w1', ready: false, policies: [], servedTenants: 0, intervalMs: 10_000 });

    // A policy revision arrives as one view per tenant: one report once they settle.
    store.applyState({ kind: 'tenant-state', position: '1', tenantId: 'a', removed: false, view: view('a', 1) });
    reporter.onViewApplied();
    store.applyState({ kind: 'tenant-state', position: '2', tenantId: 'b', removed: false, view: view('b', 1) });
    reporter.onViewApplied();
    jest.advanceTimersByTime(49);
    expect(sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect(sent[1].policies).toEqual([{ policyId: 'geo', version: 1, tenants: 2 }]);

    // A view that changes nothing the report says is not reported early.
    store.applyState({ kind: 'tenant-state', position: '3', tenantId: 'a', removed: false, view: { ...view('a', 1), status: 'suspended' } });
    reporter.onViewApplied();
    jest.advanceTimersByTime(100);
    expect(sent).toHaveLength(2);

    store.markReady();
    reporter.onViewApplied();
    jest.advanceTimersByTime(50);
    expect(sent.at(-1)).toMatchObject({ ready: true });
    const count = sent.length;
    jest.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(count + 1);

    reporter.stop();
    expect(sent.at(-1)).toMatchObject({ stopping: true });
    reporter.onViewApplied();
    jest.advanceTimersByTime(60_000);
    expect(sent.at(-1)).toMatchObject({ stopping: true });
    expect(sent).toHaveLength(count + 2);
    expect(new Set(sent.map((m) => m.startedAt)).size).toBe(1);
  });
});
