import { randomUUID } from 'node:crypto';
import { runCli } from '../../apps/cli/src/program';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL } from './fixtures';

describe('cmk CLI against the running control plane', () => {
  let cp: TestControlPlane;
  let token: string;
  beforeAll(async () => {
    cp = await startTestControlPlane();
    token = await cp.token(ALL, { subject: 'cli-operator' });
  });
  afterAll(() => cp.close());

  async function cmk(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['--json', ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { CMK_URL: cp.url, CMK_TOKEN: token },
      fetch: globalThis.fetch,
    });
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = JSON.parse(stdout);
    } catch {
      json = undefined; // JSON lines (audit tail) are parsed by the test itself
    }
    return { code, stderr, json, stdout };
  }

  it('onboards, links, revokes, tails the audit log, replays and rebuilds, with exit codes per outcome', async () => {
    const tenantId = randomUUID();
    expect((await cmk('tenants', 'onboard', '--id', tenantId, '--name', 'CLI Corp', '--jurisdiction', 'EU', '--region', 'eu-central-1', '--classification', 'internal')).code).toBe(0);
    const link = await cmk('links', 'link', '--tenant', tenantId, '--provider', 'pkcs11', '--mode', 'HYOK', '--key-ref', 'pkcs11:token=acme;object=root-2026', '--algorithm', 'AES', '--size', '256', '--region', 'eu-central-1');
    expect(link.code).toBe(0);
    const keyLinkId = link.json.id;
    expect((await cmk('links', 'activate', keyLinkId)).code).toBe(0);
    const before = new Date().toISOString();
    const revoke = await cmk('links', 'revoke', keyLinkId, '--reason', 'cli test');
    expect(revoke).toMatchObject({ code: 0, json: { events: ['KeyLinkRevoked'] } });
    expect((await cmk('links', 'activate', keyLinkId)).code).toBe(4);
    expect((await cmk('tenants', 'get', randomUUID())).code).toBe(3);

    const tail = await cmk('audit', 'tail', '--tenant', tenantId, '--limit', '2');
    const lines = tail.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e: { type: string }) => e.type)).toEqual(['KeyLinkActivated', 'KeyLinkRevoked']);
    expect(lines[1].metadata.actor.subject).toBe('cli-operator');

    const replay = await cmk('audit', 'replay', '--tenant', tenantId, '--as-of', before);
    expect(replay.json.keyLinks[0]).toMatchObject({ keyLinkId, status: 'active' });

    const rebuild = await cmk('projections', 'rebuild', 'key-links', '--interval', '20');
    expect(rebuild).toMatchObject({ code: 0, json: { name: 'key-links', done: true } });
    const all = await cmk('projections', 'rebuild', 'all', '--interval', '20');
    expect(all).toMatchObject({ code: 0, json: { name: 'all', done: true } });
    const after = await cmk('links', 'get', keyLinkId);
    expect(after.json.status).toBe('revoked');

    // No bridge runs here: the receipt says the revocation has not reached the mesh yet.
    const receipt = await cmk('links', 'receipt', keyLinkId);
    expect(receipt).toMatchObject({ code: 0, json: { keyLinkId, dispatched: false, confirmed: false } });
  });

  it('prints usage as a table, JSON or CSV, and refuses a malformed date', async () => {
    const tenantId = randomUUID();
    const usage = await cmk('usage', '--tenant', tenantId, '--daily');
    expect(usage).toMatchObject({ code: 0, json: { granularity: 'day', items: [] } });
    const csv = await cmk('usage', '--tenant', tenantId, '--csv');
    expect(csv).toMatchObject({ code: 0, stdout: 'tenant_id,system_id,operation,outcome,count\n' });
    expect((await cmk('usage', '--from', 'last-week')).stderr).toContain('--from must be a date YYYY-MM-DD');
  });

  it('runs the kill switch dry run and refuses an ambiguous scope', async () => {
    const dry = await cmk('kill-switch', 'dry-run', '--provider-region', 'zz-nowhere-1');
    expect(dry).toMatchObject({ code: 0, json: { keyLinks: 0, tenants: 0 } });
    const both = await cmk('kill-switch', 'dry-run', '--provider', 'pkcs11', '--everything');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give exactly one of');
    const fire = await cmk('kill-switch', 'fire', '--provider-region', 'zz-nowhere-1', '--reason', 'drill', '--expect', '0');
    expect(fire).toMatchObject({ code: 0, json: { keyLinks: 0, revoked: [], failed: [] } });
  });

  it('simulates a YAML policy file and prints the compliance report', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'cmk-cli-')), 'draft.yaml');
    writeFileSync(file, 'keyStrength:\n  minimumBits:\n    RSA: 8192\n');
    const sim = await cmk('policies', 'simulate', '--file', file);
    expect(sim).toMatchObject({ code: 0, json: { scope: 'global' } });
    expect(sim.json.evaluated).toBeGreaterThanOrEqual(0);
    writeFileSync(file, 'keyStrength: [unclosed\n');
    expect((await cmk('policies', 'simulate', '--file', file)).stderr).toContain('is not valid YAML');
    const report = await cmk('compliance');
    // No worker runs in this file: drift is reported, over no worker.
    expect(report).toMatchObject({ code: 0, json: { workerDrift: { reported: true, workers: 0, inSync: 0, details: [] } } });
  });
});
