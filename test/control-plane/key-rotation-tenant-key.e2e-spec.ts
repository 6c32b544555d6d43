/**
 * Scheduled tenant key (L2) rotation on a real control plane (real PostgreSQL, real SoftHSM2 token for the L1
 * keys): a policy sets `rotation.tenantKeyMaxAgeDays`; links whose current L2 version is older get exactly one
 * TenantKeyRotationRequested per due version, even with two instances rounding at once, after a restart, and
 * when a second request for the same version gets past the scheduler lock. Young and revoked links are left
 * alone, and GET /v1/compliance lists the overdue L2 key, then no longer does.
 *
 * Time: the links are activated through the real activation use case with a context whose clock says N days
 * ago (the command's time is what the read model ages from), and the rounds then run on the real clock.
 */
import { randomUUID } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError, keyLinkStream } from '@cmk/domain';
import type { TenantKeyRotationStatus } from '@cmk/policy';
import { ActivateKeyLinkCommand } from '../../apps/control-plane/src/key-links/activate-key-link/activate-key-link.handler';
import { RotateTenantKeyCommand } from '../../apps/control-plane/src/key-links/rotate-tenant-key/rotate-tenant-key.handler';
import { KeyRotationScheduler, RotationRound } from '../../apps/control-plane/src/key-links/rotation-scheduler/key-rotation-scheduler';
import { rotateDueTenantKeys, tenantKeyRotationCommandId } from '../../apps/control-plane/src/key-links/rotation-scheduler/tenant-key-rotation';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, tenantBody } from './fixtures';

const DAY = 86_400_000;
const OPERATOR = { subject: 'test-key-admin', roles: ALL };
let cp: TestControlPlane;
let token: string;

beforeAll(async () => {
  cp = await startTestControlPlane();
  token = await cp.token(ALL);
}, 120_000);

afterAll(async () => {
  await cp?.close();
});

const sameDatabase = (of: TestControlPlane) => ({
  env: { CMK_EVENT_STORE_SCHEMA: of.running.infra.config.eventStoreSchema, CMK_READ_MODEL_SCHEMA: of.running.infra.config.readModelSchema, CMK_EVENT_STORE_APP_ROLE: of.running.infra.config.eventStoreAppRole! },
});
const requests = async (keyLinkId: string) => (await cp.running.infra.store.readStream(keyLinkStream(keyLinkId))).filter((e) => e.type === 'TenantKeyRotationRequested');
const head = async () => (await cp.running.infra.store.headPosition()).toString();
const compliance = async (tenantId: string) => {
  const res = await cp.call('GET', `/v1/compliance?tenantId=${tenantId}`, { token });
  expect(res.status).toBe(200);
  return res.body;
};

async function tenantWithL2Policy(rotation: Record<string, number>): Promise<{ tenantId: string; policyId: string }> {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
  const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token, body: { name: `l2-rotate-${tenantId}`, document: { rotation } } }));
  await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token, body: { scope: tenantId } }));
  return { tenantId, policyId: policy.id };
}

/** A link on the test token whose activation (so its L2 version 1) happened `daysAgo` days ago. */
async function linkActivated(tenantId: string, daysAgo: number): Promise<string> {
  const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token, body: linkBody() });
  expect(link.status).toBe(201);
  const keyLinkId = link.body.id as string;
  const ctx = { actor: OPERATOR, commandId: randomUUID(), correlationId: randomUUID(), now: new Date(Date.now() - daysAgo * DAY) };
  const activated = await cp.running.app.get(CommandBus).execute(new ActivateKeyLinkCommand(keyLinkId, undefined, ctx));
  expect(activated.events.map((e: { type: string }) => e.type)).toEqual(['KeyPossessionProven', 'KeyLinkActivated']);
  return keyLinkId;
}

const rotatedIn = (rounds: RotationRound[], keyLinkId: string) => rounds.flatMap((r) => r.tenantKeys.rotated).filter((r) => r.keyLinkId === keyLinkId);

describe('scheduled tenant key (L2) rotation', () => {
  it('rotates each overdue L2 version exactly once (two instances at once, then a restart), leaves young and revoked links alone, and compliance lists then clears it', async () => {
    const { tenantId, policyId } = await tenantWithL2Policy({ tenantKeyMaxAgeDays: 30, tenantKeyWarningDays: 5 });
    const old = await linkActivated(tenantId, 40);
    const nearly = await linkActivated(tenantId, 27);
    const young = await linkActivated(tenantId, 10);
    const revoked = await linkActivated(tenantId, 40);
    expect((await cp.call('POST', `/v1/key-links/${revoked}/revoke`, { token, body: { reason: 'incident drill' } })).status).toBe(200);

    const before = await compliance(tenantId);
    expect(before.rotation.tenantKeys.overdue).toEqual([
      { keyLinkId: old, tenantId, tenantKeyVersion: 1, since: expect.any(String), ageDays: 40, maxAgeDays: 30, state: 'overdue', policyId, policyVersion: 1 },
    ]);
    expect(before.rotation.tenantKeys.warning).toEqual([expect.objectContaining({ keyLinkId: nearly, ageDays: 27, state: 'warning', policyId })]);
    // L2 findings are their own list: the policy sets no L1 age, so the L1 lists stay empty.
    expect(before.rotation.overdue).toEqual([]);
    expect(before.rotation.warning).toEqual([]);

    const other = await startTestControlPlane(sameDatabase(cp));
    let rounds: RotationRound[];
    try {
      rounds = await Promise.all([cp.running.app.get(KeyRotationScheduler).runOnce(), other.running.app.get(KeyRotationScheduler).runOnce()]);
      expect(rounds.some((r) => r.acted)).toBe(true);
    } finally {
      await other.close();
    }
    // A restart: a fresh instance (no caches, nothing in memory) on the same database.
    const restarted = await startTestControlPlane(sameDatabase(cp));
    try {
      rounds.push(await restarted.running.app.get(KeyRotationScheduler).runOnce());
    } finally {
      await restarted.close();
    }
    rounds.push(await cp.running.app.get(KeyRotationScheduler).runOnce());

    expect(rotatedIn(rounds, old)).toEqual([{ keyLinkId: old, fromVersion: 1, toVersion: 2, policyId, policyVersion: 1 }]);
    for (const untouched of [nearly, young, revoked]) expect(rotatedIn(rounds, untouched)).toEqual([]);
    expect(rounds.flatMap((r) => r.tenantKeys.failed)).toEqual([]);

    const [request] = await requests(old);
    expect(await requests(old)).toHaveLength(1);
    expect(request.data).toEqual({ keyLinkId: old, tenantId, previousL2Version: 1, l2Version: 2, maxAgeDays: 30, policyId, policyVersion: 1 });
    expect(request.metadata).toMatchObject({ actor: { subject: 'cmk:rotation-scheduler' }, commandId: tenantKeyRotationCommandId(old, 1) });
    for (const untouched of [nearly, young, revoked]) expect(await requests(untouched)).toEqual([]);

    const view = await cp.call('GET', `/v1/key-links/${old}?minPosition=${await head()}`, { token });
    expect(view.body).toMatchObject({ tenantKeyVersion: 2, tenantKeySince: request.metadata.occurredAt });
    expect((await cp.call('GET', `/v1/key-links/${young}`, { token })).body.tenantKeyVersion).toBe(1);

    const after = await compliance(tenantId);
    expect(after.rotation.tenantKeys.overdue).toEqual([]);
    expect(after.rotation.tenantKeys.warning.map((w: { keyLinkId: string }) => w.keyLinkId)).toEqual([nearly]);
  }, 240_000);

  it('refuses a second request for a version already rotated, past the scheduler lock: same command id appends nothing, another id is refused by the decider', async () => {
    const { tenantId, policyId } = await tenantWithL2Policy({ tenantKeyMaxAgeDays: 7 });
    const link = await linkActivated(tenantId, 8);
    const commands = cp.running.app.get(CommandBus);
    const scheduled = { fromVersion: 1, maxAgeDays: 7, policy: { policyId, version: 1 } };
    const ctx = (commandId: string) => ({ actor: { subject: 'cmk:rotation-scheduler', roles: ['platform-operator'] }, commandId, correlationId: randomUUID(), now: new Date() });

    const first = await commands.execute(new RotateTenantKeyCommand(link, ctx(tenantKeyRotationCommandId(link, 1)), scheduled));
    const again = await commands.execute(new RotateTenantKeyCommand(link, ctx(tenantKeyRotationCommandId(link, 1)), scheduled));
    expect(again.position).toBe(first.position);
    const refused = await commands.execute(new RotateTenantKeyCommand(link, ctx(randomUUID()), scheduled)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ kind: 'invalid-state', code: 'tenant-key.version-moved', details: { fromVersion: 1, currentVersion: 2 } });

    // A round acting on a stale picture (as a lagging read model would give it) appends nothing either.
    const stale: TenantKeyRotationStatus = { keyLinkId: link, tenantId, tenantKeyVersion: 1, since: new Date(Date.now() - 8 * DAY).toISOString(), ageDays: 8, maxAgeDays: 7, state: 'overdue', policyId, policyVersion: 1 };
    const round = await rotateDueTenantKeys(commands, [stale], { id: randomUUID(), now: new Date(), stopped: () => false });
    expect(round).toEqual({ overdue: 1, rotated: [], alreadyRotated: [link], failed: [] });
    expect(await requests(link)).toHaveLength(1);
  }, 120_000);

  it('reports L2 rotations next to L1 ones from POST /v1/key-rotation/run, and rotates the new version again only when it is due', async () => {
    const { tenantId, policyId } = await tenantWithL2Policy({ tenantKeyMaxAgeDays: 30 });
    const link = await linkActivated(tenantId, 31);
    const run = await cp.call('POST', '/v1/key-rotation/run', { token });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ acted: true, rotated: [], due: [], failed: [], tenantKeys: { failed: [], alreadyRotated: [] } });
    expect(run.body.tenantKeys.rotated).toContainEqual({ keyLinkId: link, fromVersion: 1, toVersion: 2, policyId, policyVersion: 1 });

    const scheduler = cp.running.app.get(KeyRotationScheduler);
    expect(rotatedIn([await scheduler.runOnce(new Date(Date.now() + 29 * DAY))], link)).toEqual([]);
    expect(rotatedIn([await scheduler.runOnce(new Date(Date.now() + 30 * DAY))], link)).toEqual([{ keyLinkId: link, fromVersion: 2, toVersion: 3, policyId, policyVersion: 1 }]);
    // The version just made carries the round's time, so the same round time does not find it due again.
    expect(rotatedIn([await scheduler.runOnce(new Date(Date.now() + 30 * DAY))], link)).toEqual([]);
    expect((await requests(link)).map((e) => (e.data as { l2Version: number }).l2Version)).toEqual([2, 3]);
  }, 120_000);
});
