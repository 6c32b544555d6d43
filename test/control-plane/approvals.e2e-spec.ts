import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { EVENT_STORE, EventStore } from '@cmk/event-store';
import { runCli } from '../../apps/cli/src/program';
import { ApprovalClock } from '../../apps/control-plane/src/approvals/approval-clock';
import { ApprovalWebhookNotifier } from '../../apps/control-plane/src/approvals/webhook/approval-webhook.notifier';
import { verifyWebhook } from '../../apps/control-plane/src/approvals/webhook/webhook-signature';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, seedTenant } from './fixtures';

const SECRET = 'whsec-approvals-e2e-7f3a9c';
process.env.CMK_TEST_APPROVAL_WEBHOOK_SECRET = SECRET;

interface Received {
  signature: string | undefined;
  raw: string;
  body: { id: string; type: string; approval: { approvalId: string; status: string } };
}

/** A real HTTP receiver on loopback that can go down (stop listening) and come back on the same port. */
class WebhookReceiver {
  readonly received: Received[] = [];
  private server?: Server;
  port = 0;

  async up(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        this.received.push({ signature: req.headers['x-cmk-signature'] as string | undefined, raw, body: JSON.parse(raw) });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server!;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  of(approvalId: string): string[] {
    return this.received.filter((r) => r.body.approval.approvalId === approvalId).map((r) => r.body.type);
  }
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('control plane: four-eyes approvals on PostgreSQL, notifying a local webhook receiver', () => {
  let cp: TestControlPlane;
  let store: EventStore;
  let clock: ApprovalClock;
  const receiver = new WebhookReceiver();
  let admin: string;
  let alice: string; // the initiator
  let bob: string;
  let carol: (tenantId: string) => Promise<string>;
  let auditor: string;

  beforeAll(async () => {
    await receiver.up();
    cp = await startTestControlPlane({
      env: {
        CMK_APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/hooks/cmk`,
        CMK_APPROVAL_WEBHOOK_SECRET: 'env:CMK_TEST_APPROVAL_WEBHOOK_SECRET',
        CMK_APPROVAL_WEBHOOK_MAX_BACKOFF_MS: '200',
      },
    });
    store = cp.running.app.get<symbol, EventStore>(EVENT_STORE);
    clock = cp.running.app.get(ApprovalClock);
    admin = await cp.token(ALL, { subject: 'platform-admin' });
    alice = await cp.token(['key-admin', 'security-officer'], { subject: 'alice' });
    bob = await cp.token(['security-officer'], { subject: 'bob' });
    carol = (tenantId) => cp.token(['key-admin'], { subject: 'carol', tenants: [tenantId] });
    auditor = await cp.token(['auditor'], { subject: 'dave' });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await cp?.close();
    await receiver.down().catch(() => undefined);
  });

  async function revokedLink() {
    const seeded = await seedTenant(cp, admin);
    const revoke = await cp.call('POST', `/v1/key-links/${seeded.keyLinkId}/revoke`, { token: alice, body: { reason: 'incident 7' } });
    // Stopping must be easy: revocation never waits for anyone.
    expect(revoke.status).toBe(200);
    expect(revoke.body.events).toEqual(['KeyLinkRevoked']);
    return seeded;
  }
  const restore = (keyLinkId: string, token = alice) => cp.call('POST', `/v1/key-links/${keyLinkId}/restore`, { token, body: { reason: 'incident closed' } });
  const approve = (id: string, token: string) => cp.call('POST', `/v1/approvals/${id}/approve`, { token });
  const streamTypes = async (stream: string) => (await store.readStream(stream)).map((e) => e.type);
  const pendingIds = async (token: string) => (await cp.call('GET', '/v1/approvals', { token })).body.items.map((a: { approvalId: string }) => a.approvalId);

  it('holds a restore for two distinct approvers, refuses self-approval and unfit approvers, then runs it as the initiator', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    const held = await restore(keyLinkId);
    expect(held.status).toBe(202);
    expect(held.body).toEqual({ approvalId: expect.any(String), status: 'pending', requiredApprovers: 2, expiresAt: expect.any(String) });
    const id = held.body.approvalId;
    expect(held.headers.get('location')).toBe(`/v1/approvals/${id}`);
    // The default expiry is a week.
    expect(Date.parse(held.body.expiresAt) - Date.now()).toBeGreaterThan(167 * 3_600_000);
    expect(await streamTypes(`keylink-${keyLinkId}`)).not.toContain('KeyLinkRestored');

    const self = await approve(id, alice);
    expect(self.status).toBe(422);
    expect(self.body.code).toBe('approval.self-approval');
    expect((await approve(id, auditor)).status).toBe(403);
    const tenantAdmin = await approve(id, await cp.token(['tenant-admin'], { subject: 'erin', tenants: [tenantId] }));
    expect(tenantAdmin.status).toBe(422);
    expect(tenantAdmin.body.code).toBe('approval.role-required');
    const otherTenant = await approve(id, await cp.token(['key-admin'], { subject: 'frank', tenants: ['00000000-0000-4000-8000-000000000000'] }));
    expect(otherTenant.status).toBe(403);

    expect(await pendingIds(bob)).toContain(id);
    expect(await pendingIds(alice)).not.toContain(id);
    expect(await pendingIds(auditor)).not.toContain(id);

    const first = await approve(id, bob);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'pending', approvals: [{ subject: 'bob' }] });
    const twice = await approve(id, bob);
    expect(twice.body).toMatchObject({ status: 'pending', approvals: [{ subject: 'bob' }] });
    expect(await pendingIds(bob)).not.toContain(id);
    expect(await pendingIds(await carol(tenantId))).toContain(id);

    const second = await approve(id, await carol(tenantId));
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'executed', result: { id: keyLinkId, events: ['KeyLinkRestored'] }, outcome: { resultStream: `keylink-${keyLinkId}` } });

    const restored = (await store.readStream(`keylink-${keyLinkId}`)).at(-1)!;
    expect(restored.type).toBe('KeyLinkRestored');
    expect(restored.metadata.actor).toMatchObject({ subject: 'alice' });
    expect(restored.metadata.approval).toEqual({
      approvalId: id,
      initiator: expect.objectContaining({ subject: 'alice' }),
      approvers: [expect.objectContaining({ subject: 'bob' }), expect.objectContaining({ subject: 'carol' })],
    });
    expect(await streamTypes(`approval-${id}`)).toEqual(['ApprovalRequested', 'ApprovalGranted', 'ApprovalGranted', 'ApprovalExecuted']);
    const late = await approve(id, await cp.token(['security-officer'], { subject: 'grace' }));
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('approval.closed');
    const link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${second.body.result.position}`, { token: admin });
    expect(link.body.status).toBe('active');
  });

  it('refuses at once a command that could never pass (dry admission): nothing is requested', async () => {
    const { keyLinkId } = await seedTenant(cp, admin);
    const requests = async () => (await store.readAll({ filter: { categories: ['approval'] } })).length;
    const before = await requests();
    const unknown = await restore('00000000-0000-4000-8000-00000000abcd');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('key-link.not-found');
    const active = await cp.call('POST', `/v1/key-links/${keyLinkId}/unlink`, { token: alice, body: { reason: 'x' } });
    expect(active.status).toBe(409);
    expect(active.body.code).toBe('key-link.active');
    expect(await requests()).toBe(before);
  });

  it('ends a rejected request: nothing runs and nobody can approve it any more', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    const held = await cp.call('POST', `/v1/key-links/${keyLinkId}/unlink`, { token: alice, body: { reason: 'retire' } });
    expect(held.status).toBe(202);
    const id = held.body.approvalId;
    expect((await cp.call('POST', `/v1/approvals/${id}/reject`, { token: bob, body: {} })).status).toBe(400);
    const rejected = await cp.call('POST', `/v1/approvals/${id}/reject`, { token: await carol(tenantId), body: { reason: 'wrong link' } });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', rejection: { by: { subject: 'carol' }, reason: 'wrong link' } });
    const after = await approve(id, bob);
    expect(after.status).toBe(409);
    expect(after.body.code).toBe('approval.closed');
    expect(await streamTypes(`keylink-${keyLinkId}`)).not.toContain('KeyLinkUnlinked');
    const listed = await cp.call('GET', `/v1/approvals?status=rejected&tenantId=${tenantId}`, { token: auditor });
    expect(listed.body.items.map((a: { approvalId: string }) => a.approvalId)).toEqual([id]);
  });

  it('expires a request after the expiry its policy sets (clock moved forward, not slept)', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    // Changing policy needs two approvers too; this policy only shortens the expiry for this tenant.
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: `1h approvals ${tenantId}`, document: { approvals: { expiryHours: 1 } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId } }));

    const touched = await restore(keyLinkId);
    const untouched = await cp.call('POST', `/v1/tenants/${tenantId}/offboard`, { token: admin, body: { reason: 'contract ended' } });
    expect([touched.status, untouched.status]).toEqual([202, 202]);
    expect(Date.parse(touched.body.expiresAt) - Date.now()).toBeLessThanOrEqual(3_600_000);
    const approval = await cp.call('GET', `/v1/approvals/${touched.body.approvalId}`, { token: bob });
    expect(approval.body.setBy).toEqual([]);
    expect(approval.body).toMatchObject({ status: 'pending', action: 'key-link.restore', operation: 'RestoreKeyLink', tenantId, target: { keyLinkId }, request: { reason: 'incident closed' }, initiator: { subject: 'alice' } });

    jest.spyOn(clock, 'now').mockReturnValue(new Date(Date.now() + 61 * 60_000));
    try {
      const late = await approve(touched.body.approvalId, bob);
      expect(late.status).toBe(409);
      expect(late.body.code).toBe('approval.expired');
      // Reading (listing) touches the other one: it is expired, not offered for approval.
      expect(await pendingIds(bob)).not.toContain(untouched.body.approvalId);
      const read = await cp.call('GET', `/v1/approvals/${untouched.body.approvalId}`, { token: bob });
      expect(read.body.status).toBe('expired');
    } finally {
      jest.restoreAllMocks();
    }
    expect(await streamTypes(`approval-${touched.body.approvalId}`)).toEqual(['ApprovalRequested', 'ApprovalExpired']);
    expect(await streamTypes(`approval-${untouched.body.approvalId}`)).toEqual(['ApprovalRequested', 'ApprovalExpired']);
    expect(await streamTypes(`tenant-${tenantId}`)).not.toContain('TenantOffboarded');
  });

  it('ends as failed, with the reason, when the command no longer passes admission at quorum (tenant suspended meanwhile)', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    const held = await restore(keyLinkId);
    expect(held.status).toBe(202);
    // Suspending needs no approval by default: it runs at once.
    const suspend = await cp.call('POST', `/v1/tenants/${tenantId}/suspend`, { token: admin, body: { reason: 'unpaid' } });
    expect(suspend.status).toBe(200);
    expect((await approve(held.body.approvalId, bob)).body.status).toBe('pending');
    const last = await approve(held.body.approvalId, await carol(tenantId));
    expect(last.status).toBe(200);
    expect(last.body).toMatchObject({ status: 'failed', outcome: { code: 'tenant.not-active', reason: expect.stringContaining('suspended') } });
    expect(last.body.result).toBeUndefined();
    expect(await streamTypes(`approval-${held.body.approvalId}`)).toEqual(['ApprovalRequested', 'ApprovalGranted', 'ApprovalGranted', 'ApprovalFailed']);
    expect(await streamTypes(`keylink-${keyLinkId}`)).not.toContain('KeyLinkRestored');
  });

  it('runs at once where policy sets 0 approvers; a policy cannot make revocation wait', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    const noWait = await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'make revoke wait', document: { approvals: { required: { 'key-link.revoke': 1 } } } } });
    expect(noWait.status).toBe(400);
    const waiver = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: `no approvals ${tenantId}`, document: { approvals: { required: { 'key-link.restore': 0 } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${waiver.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    const now = await restore(keyLinkId);
    expect(now.status).toBe(200);
    expect(now.body.events).toEqual(['KeyLinkRestored']);
    const restored = (await store.readStream(`keylink-${keyLinkId}`)).at(-1)!;
    expect(restored.metadata.approval).toBeUndefined();
  });

  it('works from the CLI: cmk approvals list, get, approve, reject (exit codes per outcome)', async () => {
    const { tenantId, keyLinkId } = await revokedLink();
    const cmk = async (token: string, ...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--json', ...args], {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { CMK_URL: cp.url, CMK_TOKEN: token },
        fetch: globalThis.fetch,
      });
      return { code, stderr, json: stdout ? JSON.parse(stdout) : undefined };
    };
    const held = await restore(keyLinkId);
    const id = held.body.approvalId;
    const mine = await cmk(bob, 'approvals', 'list', '--tenant', tenantId);
    expect(mine.code).toBe(0);
    expect(mine.json.items.map((a: { approvalId: string }) => a.approvalId)).toEqual([id]);
    expect((await cmk(bob, 'approvals', 'get', id)).json).toMatchObject({ approvalId: id, status: 'pending', target: { keyLinkId } });
    const self = await cmk(alice, 'approvals', 'approve', id);
    expect(self.code).not.toBe(0);
    expect(self.stderr).toContain('four eyes means another person');
    expect((await cmk(bob, 'approvals', 'approve', id)).json.status).toBe('pending');
    const done = await cmk(await carol(tenantId), 'approvals', 'approve', id);
    expect(done.code).toBe(0);
    expect(done.json).toMatchObject({ status: 'executed', result: { events: ['KeyLinkRestored'] } });

    await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: alice, body: { reason: 'again' } });
    const again = await restore(keyLinkId);
    const rejected = await cmk(alice, 'approvals', 'reject', again.body.approvalId, '--reason', 'withdrawn by the initiator');
    expect(rejected.code).toBe(0);
    expect(rejected.json).toMatchObject({ status: 'rejected', rejection: { by: { subject: 'alice' } } });
  });

  it('signs every notification; a receiver that was down gets the ones it missed once it is back', async () => {
    const { keyLinkId, tenantId } = await revokedLink();
    const held = await restore(keyLinkId);
    const id = held.body.approvalId;
    await eventually(() => receiver.of(id).includes('approval.requested'));
    for (const r of receiver.received) expect(verifyWebhook(r.signature, r.raw, SECRET, new Date())).toBe(true);
    expect(verifyWebhook(receiver.received[0].signature, receiver.received[0].raw, 'another-secret', new Date())).toBe(false);
    // Everything the earlier tests did was notified, in order, once per event.
    const types = new Set(receiver.received.map((r) => r.body.type));
    for (const t of ['approval.requested', 'approval.granted', 'approval.executed', 'approval.rejected', 'approval.expired', 'approval.failed']) expect(types).toContain(t);
    expect(new Set(receiver.received.map((r) => r.body.id)).size).toBe(receiver.received.length);

    const notifier = cp.running.app.get(ApprovalWebhookNotifier);
    await receiver.down();
    const failedBefore = notifier.failedAttempts;
    expect((await approve(id, bob)).body.status).toBe('pending');
    expect((await approve(id, await carol(tenantId))).body.status).toBe('executed');
    await eventually(() => notifier.failedAttempts >= failedBefore + 3);
    expect(receiver.of(id)).toEqual(['approval.requested']);
    await receiver.up();
    await eventually(() => receiver.of(id).length === 4);
    expect(receiver.of(id)).toEqual(['approval.requested', 'approval.granted', 'approval.granted', 'approval.executed']);
    const executed = receiver.received.find((r) => r.body.approval.approvalId === id && r.body.type === 'approval.executed')!;
    expect(verifyWebhook(executed.signature, executed.raw, SECRET, new Date())).toBe(true);
    expect(executed.body.approval).toMatchObject({ status: 'executed', href: `/v1/approvals/${id}` });
    expect(executed.raw).not.toContain(SECRET);
  });
});
