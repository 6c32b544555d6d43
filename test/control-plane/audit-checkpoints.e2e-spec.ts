/**
 * The sealed audit log: the sealer signs Merkle checkpoints with an Ed25519 key that never leaves a real
 * SoftHSM2 token; an auditor fetches the public key without a token, and checks checkpoint signatures, inclusion
 * proofs of single events and consistency proofs between checkpoints with nothing but that key and the events.
 */
import { randomUUID } from 'node:crypto';
import {
  auditLeaf,
  checkpointPayload,
  ed25519PublicKeyFromRaw,
  ed25519Verify,
  isLeafEvent,
  leafHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '@cmk/audit';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, seedTenant } from './fixtures';

let cp: TestControlPlane;
let token: string;

beforeAll(async () => {
  cp = await startTestControlPlane({ auditKeyInHsm: true });
  token = await cp.token(ALL);
}, 60_000);
afterAll(() => cp?.close());

const bytes = (hex: string[]) => hex.map((h) => Buffer.from(h, 'hex'));

describe('audit checkpoints and proofs', () => {
  it('signs checkpoints in the HSM that an auditor verifies offline, with inclusion and consistency proofs', async () => {
    await seedTenant(cp, token);
    const first = await cp.call('POST', '/v1/audit/checkpoints', { token });
    expect(first.status).toBe(200);
    expect(first.body.sealed).toBe(true);
    const { tenantId } = await seedTenant(cp, token);
    await cp.call('POST', `/v1/tenants/${tenantId}/suspend`, { token, body: { reason: 'audit test' } });
    const second = await cp.call('POST', '/v1/audit/checkpoints', { token });
    expect(second.body.treeSize).toBeGreaterThan(first.body.treeSize);
    expect((await cp.call('POST', '/v1/audit/checkpoints', { token })).body).toEqual({ treeSize: second.body.treeSize, sealed: false });

    const keys = await cp.call('GET', '/.well-known/cmk-audit-keys');
    expect(keys.status).toBe(200);
    const [key] = keys.body.keys;
    expect(key).toMatchObject({ alg: 'Ed25519', keyId: expect.stringMatching(/^ed25519:[0-9a-f]{32}$/) });
    const publicKey = ed25519PublicKeyFromRaw(Buffer.from(key.publicKey, 'base64url'));

    const checkpoints = (await cp.call('GET', '/v1/audit/checkpoints', { token })).body.items;
    expect(checkpoints.map((c: { treeSize: number }) => c.treeSize)).toEqual([second.body.treeSize, first.body.treeSize]);
    for (const c of checkpoints) {
      expect(c.keyId).toBe(key.keyId);
      expect(ed25519Verify(publicKey, checkpointPayload(c), c.signature)).toBe(true);
      expect(ed25519Verify(publicKey, checkpointPayload({ ...c, treeSize: c.treeSize + 1 }), c.signature)).toBe(false);
    }

    // Recompute the root from the events alone (as exported), leaf by leaf.
    const events = (await cp.running.infra.store.readAll({ maxCount: 100_000 })).filter((e) => isLeafEvent(e.streamName));
    const [latest, earlier] = checkpoints;
    expect(rootFromLeafHashes(events.slice(0, latest.treeSize).map((e) => leafHash(auditLeaf(e)))).toString('hex')).toBe(latest.rootHash);
    expect(rootFromLeafHashes(events.slice(0, earlier.treeSize).map((e) => leafHash(auditLeaf(e)))).toString('hex')).toBe(earlier.rootHash);

    const target = events[3];
    const inclusion = await cp.call('GET', `/v1/audit/proofs/inclusion?position=${target.position}`, { token });
    expect(inclusion.status).toBe(200);
    expect(inclusion.body.leaf).toBe(auditLeaf(target).toString('hex'));
    expect(verifyInclusion(leafHash(auditLeaf(target)), inclusion.body.leafIndex, latest.treeSize, bytes(inclusion.body.proof), Buffer.from(latest.rootHash, 'hex'))).toBe(true);
    expect(verifyInclusion(leafHash(auditLeaf(events[4])), inclusion.body.leafIndex, latest.treeSize, bytes(inclusion.body.proof), Buffer.from(latest.rootHash, 'hex'))).toBe(false);

    const consistency = await cp.call('GET', `/v1/audit/proofs/consistency?from=${earlier.treeSize}&to=${latest.treeSize}`, { token });
    expect(consistency.status).toBe(200);
    expect(verifyConsistency(earlier.treeSize, latest.treeSize, Buffer.from(earlier.rootHash, 'hex'), Buffer.from(latest.rootHash, 'hex'), bytes(consistency.body.proof))).toBe(true);

    // Events not sealed yet, unknown positions and bad parameters are clear problems.
    const fresh = await seedTenant(cp, token);
    const unsealed = await cp.call('GET', `/v1/audit/proofs/inclusion?position=${fresh.position}`, { token });
    expect([400, 404]).toContain(unsealed.status);
    expect((await cp.call('GET', '/v1/audit/proofs/inclusion?position=abc', { token })).status).toBe(400);
    expect((await cp.call('GET', `/v1/audit/proofs/consistency?from=${latest.treeSize}&to=${earlier.treeSize}`, { token })).status).toBe(400);
    const outsider = await cp.token(['tenant-admin'], { tenants: [randomUUID()] });
    expect((await cp.call('GET', '/v1/audit/checkpoints', { token: outsider })).status).toBe(403);
  });
});
