/**
 * Time travel against a real control plane on PostgreSQL: the tenant as of past moments and "who could decrypt
 * at T", rebuilt by replaying the event store with the mesh bridge's fold, via the API and via the CLI. Revocation
 * receipts are appended to the enforcement stream exactly as the mesh bridge appends them (no bridge runs here).
 */
import { randomUUID } from 'node:crypto';
import { enforcementStream } from '@cmk/domain';
import { runCli } from '../../apps/cli/src/program';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, tenantBody } from './fixtures';

const REGIONS = ['eu-central-1', 'us-east-1', 'ap-southeast-1'];

/**
 * A moment between two steps: recorded times are in milliseconds, so the moment is taken once the clock has left
 * the millisecond of the previous step, and the next step starts only once the clock has left the moment's.
 */
async function between(): Promise<string> {
  const leave = async (ms: number) => {
    while (Date.now() <= ms) await new Promise((r) => setImmediate(r));
  };
  await leave(Date.now());
  const moment = Date.now();
  await leave(moment);
  return new Date(moment).toISOString();
}

describe('time travel: the tenant as of T and who could decrypt at T (real control plane on PostgreSQL)', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane({ env: { CMK_REGIONS: REGIONS.join(',') } });
    admin = await cp.token(ALL, { subject: 'time-traveller' });
  }, 120_000);
  afterAll(() => cp?.close());

  async function cmk(json: boolean, ...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli([...(json ? ['--json'] : []), ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { CMK_URL: cp.url, CMK_TOKEN: admin },
      fetch: globalThis.fetch,
    });
    return { code, stdout, stderr, json: json && code === 0 ? JSON.parse(stdout) : undefined };
  }

  it('answers at every moment between onboarding, linking, registering, the geofence and the revocation', async () => {
    const tenantId = randomUUID();
    const asOf = (at: string, token = admin) => cp.call('GET', `/v1/tenants/${tenantId}/as-of?at=${encodeURIComponent(at)}`, { token });
    const access = (at: string, token = admin) => cp.call('GET', `/v1/tenants/${tenantId}/decrypt-access?at=${encodeURIComponent(at)}`, { token });

    const beforeOnboarding = await between();
    expect((await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) })).status).toBe(201);
    const onboarded = await between();
    const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody() });
    expect(link.status).toBe(201);
    const keyLinkId = link.body.id as string;
    expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token: admin, body: {} })).status).toBe(200);
    const linked = await between();
    const systemIds: string[] = [];
    for (const name of ['billing', 'ledger']) {
      const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token: admin, body: { name, region: 'eu-central-1', keyLinkId } });
      expect(sys.status).toBe(201);
      systemIds.push(sys.body.id);
    }
    systemIds.sort();
    const registered = await between();
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'EU residency', document: { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    const fenced = await between();
    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'suspected compromise' } });
    expect(revoke.status).toBe(200);
    const revokePosition = String(revoke.body.position);
    const revokedMoment = await between();

    // Before onboarding: the tenant did not exist yet.
    const none = await asOf(beforeOnboarding);
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body.detail).toContain('did not exist yet');
    expect((await access(beforeOnboarding)).status).toBe(404);

    // Onboarded: no link, no system; nobody.
    const t1 = await asOf(onboarded);
    expect(t1.status).toBe(200);
    expect(t1.body).toMatchObject({ tenantId, tenant: { status: 'active', jurisdiction: 'EU', allowedRegions: null }, keyLinks: [], systems: [], policies: [] });
    expect((await access(onboarded)).body).toMatchObject({ couldDecrypt: false, reasons: ['no-system'], systems: [] });

    // Linked and active, no system yet: the link is there, still nobody.
    const t2 = await asOf(linked);
    expect(t2.body.keyLinks).toEqual([expect.objectContaining({ keyLinkId, status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026' })]);
    expect(t2.body.replayedEvents).toBeGreaterThan(t1.body.replayedEvents);
    expect((await access(linked)).body).toMatchObject({ couldDecrypt: false, reasons: ['no-system'] });

    // Systems registered, no geofence: every configured region, through the active link.
    const t3 = await asOf(registered);
    expect(t3.body.systems.map((s: { systemId: string; status: string }) => [s.systemId, s.status])).toEqual(systemIds.map((id) => [id, 'registered']));
    const open = await access(registered);
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({ couldDecrypt: true, reasons: [], configuredRegions: REGIONS, geofence: { allowedRegions: null, setBy: [] }, policies: [] });
    expect(open.body.systems.map((s: { systemId: string; regions: string[] }) => [s.systemId, s.regions])).toEqual(systemIds.map((id) => [id, [...REGIONS].sort()]));
    expect(open.body.systems[0].keyLink).toMatchObject({ keyLinkId, status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'pkcs11:token=acme;object=root-2026' });

    // Geofence assigned: only eu-central-1, and the rule that says so.
    const t4 = await asOf(fenced);
    expect(t4.body.tenant.allowedRegions).toEqual(['eu-central-1']);
    expect(t4.body.policies).toEqual([{ policyId: policy.id, version: 1, scopes: [tenantId], document: { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } } }]);
    const fence = await access(fenced);
    expect(fence.body).toMatchObject({
      couldDecrypt: true,
      geofence: { allowedRegions: ['eu-central-1'], servedRegions: ['eu-central-1'], setBy: [{ policyId: policy.id, version: 1, rule: 'geofence.unwrapRegions.EU', regions: ['eu-central-1'] }] },
      policies: [{ policyId: policy.id, version: 1 }],
    });
    for (const s of fence.body.systems) {
      expect(s.regions).toEqual(['eu-central-1']);
      expect(s.denied).toEqual([
        { region: 'us-east-1', reason: 'region-not-allowed' },
        { region: 'ap-southeast-1', reason: 'region-not-allowed' },
      ]);
    }

    // Revoked: nobody, key-link-revoked; the last event at or before T is the revocation.
    const t5 = await asOf(revokedMoment);
    expect(t5.body).toMatchObject({ position: revokePosition, tenantPosition: revokePosition });
    expect(t5.body.keyLinks[0]).toMatchObject({ keyLinkId, status: 'revoked' });
    const cut = await access(revokedMoment);
    expect(cut.body).toMatchObject({ couldDecrypt: false, reasons: ['key-link-revoked'], position: revokePosition });
    expect(cut.body.systems.map((s: { regions: string[]; reason: string }) => [s.regions, s.reason])).toEqual([
      [[], 'key-link-revoked'],
      [[], 'key-link-revoked'],
    ]);
    // No receipt yet: the one region that held the view had not been told.
    expect(cut.body.pendingRevocations).toEqual([
      { revocationPosition: revokePosition, cause: 'KeyLinkRevoked', keyLinkId, revokedAt: expect.any(String), dispatchedAt: null, regions: [{ region: 'eu-central-1', enforcedAt: null }] },
    ]);

    // Receipts as the bridge records them: eu-central-1 confirmed 50 ms after the revocation. Between the two,
    // that region could still have served; after its receipt, nothing is pending.
    const revokedAt = Date.parse(cut.body.pendingRevocations[0].revokedAt);
    const base = { tenantId, keyLinkId, cause: 'KeyLinkRevoked', revocationPosition: revokePosition };
    const store = cp.running.infra.store;
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationDispatched', data: { ...base, regions: ['eu-central-1'] } }], { expectedRevision: 'any' });
    const enforcedAt = new Date(revokedAt + 50).toISOString();
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationEnforced', data: { ...base, workerId: 'w-eu', region: 'eu-central-1', enforcedAt } }], { expectedRevision: 'any' });
    // Both moments asked about must be in the past (a fast run gets here within 50 ms of the revocation).
    while (Date.now() <= revokedAt + 60) await new Promise((r) => setTimeout(r, 10));
    const inFlight = await access(new Date(revokedAt + 20).toISOString());
    expect(inFlight.body.pendingRevocations).toEqual([expect.objectContaining({ revocationPosition: revokePosition, regions: [{ region: 'eu-central-1', enforcedAt }] })]);
    expect(inFlight.body.pendingRevocations[0].dispatchedAt).not.toBeNull();
    const settled = await access(new Date(revokedAt + 51).toISOString());
    expect(settled.body).toMatchObject({ couldDecrypt: false, pendingRevocations: [] });

    // The same answers through the CLI, as JSON and as tables.
    const cliAsOf = await cmk(true, 'tenants', 'as-of', tenantId, '--at', fenced);
    expect(cliAsOf.code).toBe(0);
    expect(cliAsOf.json).toEqual(t4.body);
    const cliOpen = await cmk(true, 'audit', 'who-could-decrypt', '--tenant', tenantId, '--at', registered);
    expect(cliOpen.json).toEqual(open.body);
    const cliFenced = await cmk(false, 'audit', 'who-could-decrypt', '--tenant', tenantId, '--at', fenced);
    expect(cliFenced.code).toBe(0);
    expect(cliFenced.stdout).toContain(`geofence eu-central-1 set by ${policy.id} v1 geofence.unwrapRegions.EU`);
    expect(cliFenced.stdout).toMatch(new RegExp(`${systemIds[0]}.*eu-central-1`));
    const cliCut = await cmk(false, 'audit', 'who-could-decrypt', '--tenant', tenantId, '--at', revokedMoment);
    expect(cliCut.stdout).toContain('nobody could decrypt: key-link-revoked');
    const cliTable = await cmk(false, 'tenants', 'as-of', tenantId, '--at', revokedMoment);
    expect(cliTable.stdout).toContain(`position ${revokePosition}`);
    expect(cliTable.stdout).toMatch(new RegExp(`${keyLinkId}.*revoked`));
    expect((await cmk(true, 'tenants', 'as-of', tenantId, '--at', beforeOnboarding)).code).toBe(3);
  }, 180_000);

  it('refuses a malformed or future time naming `at`, other tenants, and roles it does not declare', async () => {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) })).status).toBe(201);
    const now = await between();
    for (const at of ['yesterday', '2026-13-45T00:00:00Z', new Date(Date.now() + 3_600_000).toISOString()]) {
      const res = await cp.call('GET', `/v1/tenants/${tenantId}/decrypt-access?at=${encodeURIComponent(at)}`, { token: admin });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'at' })]);
    }
    const missing = await cp.call('GET', `/v1/tenants/${tenantId}/as-of`, { token: admin });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('at');

    const q = `at=${encodeURIComponent(now)}`;
    const own = await cp.token(['tenant-admin'], { tenants: [tenantId] });
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/as-of?${q}`, { token: own })).status).toBe(200);
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/decrypt-access?${q}`, { token: own })).status).toBe(200);
    const other = await cp.token(['tenant-admin'], { tenants: [randomUUID()] });
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/decrypt-access?${q}`, { token: other })).status).toBe(403);
    // Another tenant's caller learns nothing from the time either.
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/as-of?at=bogus`, { token: other })).status).toBe(403);
    const keyAdmin = await cp.token(['key-admin'], { tenants: [tenantId] });
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/as-of?${q}`, { token: keyAdmin })).status).toBe(403);
    for (const role of ['auditor', 'security-officer', 'platform-operator']) {
      expect((await cp.call('GET', `/v1/tenants/${tenantId}/decrypt-access?${q}`, { token: await cp.token([role]) })).status).toBe(200);
    }
    expect((await cp.call('GET', `/v1/tenants/${tenantId}/as-of?${q}`)).status).toBe(401);
  }, 120_000);
});
