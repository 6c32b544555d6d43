/**
 * What `npm start` gives a newcomer: the control plane on PGlite with the in-process mesh, the mesh bridge and
 * three regional workers (eu-central-1, us-east-1, ap-southeast-1) unwrapping under the local demo key. The
 * whole loop: link, data key, unwrap in another region, geofence, revoke, denied everywhere, receipt, usage.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '@cmk/auth';
import { loadConfig } from '../../apps/control-plane/src/config/config';
import { RunningApp, startControlPlane } from '../../apps/control-plane/src/bootstrap';
import { tenantBody } from './fixtures';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('embedded mode: the whole loop in one process', () => {
  let running: RunningApp;
  let token: string;
  const call = async (method: string, url: string, body?: unknown, bearer = token) => {
    const res = await fetch(url, { method, headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    running = await startControlPlane(loadConfig({ CMK_MODE: 'embedded', CMK_DATA_DIR: 'memory://', CMK_PORT: '0', CMK_LOG_LEVEL: 'silent' }));
    token = await running.infra.devIssuer!.issue({ subject: 'newcomer', roles: [Role.PlatformOperator, Role.KeyAdmin, Role.SecurityOfficer, Role.Auditor] });
  });
  afterAll(() => running?.close());

  /** Four eyes: two security officers other than the author approve a held command; returns what it recorded. */
  async function approvedByTwo(held: { status: number; body: { approvalId: string } }) {
    expect(held.status).toBe(202);
    let last;
    for (const subject of ['approver-1', 'approver-2']) {
      const approver = await running.infra.devIssuer!.issue({ subject, roles: [Role.SecurityOfficer] });
      last = await call('POST', `${running.url}/v1/approvals/${held.body.approvalId}/approve`, undefined, approver);
      expect(last.status).toBe(200);
    }
    expect(last!.body.status).toBe('executed');
    return last!.body.result as { id: string; position: string };
  }

  it('links a key, unwraps across regions, honours the geofence, and denies everywhere after a revoke', async () => {
    const api = running.url;
    const regions = await call('GET', `${api}/v1/regions`);
    expect(regions.body.items.map((r: { region: string }) => r.region)).toEqual(['eu-central-1', 'us-east-1', 'ap-southeast-1']);
    const worker = Object.fromEntries(regions.body.items.map((r: { region: string; url: string }) => [r.region, r.url])) as Record<string, string>;

    const tenantId = randomUUID();
    expect((await call('POST', `${api}/v1/tenants`, tenantBody({ tenantId }))).status).toBe(201);
    const link = await call('POST', `${api}/v1/tenants/${tenantId}/key-links`, {
      providerKind: 'local', mode: 'HYOK', keyReference: 'local:key=demo-root', algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1',
    });
    expect(link.status).toBe(201);
    const keyLinkId = link.body.id as string;
    expect((await call('POST', `${api}/v1/key-links/${keyLinkId}/activate`, {})).status).toBe(200);
    const system = await call('POST', `${api}/v1/tenants/${tenantId}/systems`, { name: 'billing', region: 'eu-central-1', keyLinkId });
    expect(system.status).toBe(201);
    const systemId = system.body.id as string;
    const minted = await call('POST', `${api}/v1/systems/${systemId}/workload-token`, {});
    expect(minted.status).toBe(201);
    const workload = minted.body.token as string;

    // The bridge carries the new tenant to every region; a data key in Frankfurt, opened in Virginia.
    const dataKey = await until('a data key from eu-central-1', async () => {
      const res = await call('POST', `${worker['eu-central-1']}/v1/data-keys`, {}, workload);
      return res.status === 200 ? res.body : undefined;
    });
    expect(Buffer.from(dataKey.plaintext, 'base64')).toHaveLength(32);
    const opened = await until('an unwrap in us-east-1', async () => {
      const res = await call('POST', `${worker['us-east-1']}/v1/unwrap`, { ciphertextBlob: dataKey.ciphertextBlob }, workload);
      return res.status === 200 ? res.body : undefined;
    });
    expect(opened.plaintext).toBe(dataKey.plaintext);

    // Geofence: EU keys unwrap only in eu-central-1 once the policy is assigned.
    // Changing policy waits for two approvers besides the author (the default four eyes).
    const policy = await approvedByTwo(await call('POST', `${api}/v1/policies`, { name: 'EU residency', document: { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } } }));
    await approvedByTwo(await call('POST', `${api}/v1/policies/${policy.id}/assignments`, { scope: tenantId }));
    const refused = await until('the geofence in us-east-1', async () => {
      const res = await call('POST', `${worker['us-east-1']}/v1/unwrap`, { ciphertextBlob: dataKey.ciphertextBlob }, workload);
      return res.status === 403 ? res.body : undefined;
    });
    expect(['region-not-allowed', 'unknown-tenant']).toContain(refused.reason);
    expect((await call('POST', `${worker['eu-central-1']}/v1/unwrap`, { ciphertextBlob: dataKey.ciphertextBlob }, workload)).status).toBe(200);

    // The kill switch: every region denies, and the receipt shows the enforcement.
    const revoke = await call('POST', `${api}/v1/key-links/${keyLinkId}/revoke`, { reason: 'demo' });
    expect(revoke.status).toBe(200);
    for (const url of Object.values(worker)) {
      await until(`denial at ${url}`, async () => {
        const res = await call('POST', `${url}/v1/unwrap`, { ciphertextBlob: dataKey.ciphertextBlob }, workload);
        return res.status === 403 ? res.body : undefined;
      });
    }
    const denied = await call('POST', `${worker['eu-central-1']}/v1/unwrap`, { ciphertextBlob: dataKey.ciphertextBlob }, workload);
    expect(denied.body.reason).toBe('key-link-revoked');
    const receipt = await until('a confirmed receipt', async () => {
      const res = await call('GET', `${api}/v1/key-links/${keyLinkId}/revocation`);
      return res.body?.confirmed ? res.body : undefined;
    });
    expect(receipt.expectedRegions).toEqual(['eu-central-1']);
    // Workers of other regions acknowledge the revocation lane too; the receipt lists them beside the expected one.
    expect(receipt.regions.find((r: { region: string }) => r.region === 'eu-central-1').firstEnforcedAt).toEqual(expect.any(String));
    expect(receipt.allEnforcedAfterMs).toBeGreaterThanOrEqual(0);

    // Usage reaches the billing read model (workers report every 5 s here).
    const usage = await until(
      'usage for the tenant',
      async () => {
        const res = await call('GET', `${api}/v1/usage?tenantId=${tenantId}`);
        const allowed = res.body?.items?.find((l: { operation: string; outcome: string }) => l.operation === 'unwrap' && l.outcome === 'allowed');
        return allowed && allowed.count >= 2 ? res.body.items : undefined;
      },
      20_000,
    );
    expect(usage).toEqual(expect.arrayContaining([expect.objectContaining({ systemId, operation: 'generate-data-key', outcome: 'allowed', count: 1 })]));
  }, 60_000);
});
