import { randomUUID } from 'node:crypto';
import type { TestControlPlane } from '../support/control-plane';

export const ALL = ['platform-operator', 'key-admin', 'security-officer', 'auditor', 'tenant-admin'];

export const tenantBody = (over: Record<string, unknown> = {}) => ({
  displayName: 'ACME Europe GmbH',
  jurisdiction: 'EU',
  homeRegion: 'eu-central-1',
  dataClassification: 'confidential',
  contacts: [{ name: 'Ada Admin', email: 'ada@acme.example', role: 'security' }],
  ...over,
});

export const linkBody = (over: Record<string, unknown> = {}) => ({
  providerKind: 'pkcs11',
  mode: 'HYOK',
  keyReference: 'pkcs11:token=acme;object=root-2026',
  algorithm: 'AES',
  keySize: 256,
  providerRegion: 'eu-central-1',
  ...over,
});

/** Onboards a tenant with an active link and one registered system; returns their ids. */
export async function seedTenant(cp: TestControlPlane, token: string) {
  const tenantId = randomUUID();
  expect((await cp.call('POST', '/v1/tenants', { token, body: tenantBody({ tenantId }) })).status).toBe(201);
  const link = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token, body: linkBody() });
  expect(link.status).toBe(201);
  const keyLinkId = link.body.id as string;
  expect((await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token, body: {} })).status).toBe(200);
  const sys = await cp.call('POST', `/v1/tenants/${tenantId}/systems`, { token, body: { name: 'billing', region: 'eu-central-1', keyLinkId } });
  expect(sys.status).toBe(201);
  return { tenantId, keyLinkId, systemId: sys.body.id as string, position: sys.body.position as string };
}

const PLATFORM_WIDE = ['platform-operator', 'security-officer'];

/**
 * Four eyes: asserts the command was held for approval (202), has two people other than its initiator approve
 * it (a role the request allows; a key admin is scoped to the request's tenant), and returns what the command
 * recorded when it ran.
 */
export async function approved(cp: TestControlPlane, held: { status: number; body: any }): Promise<{ id: string; revision: number; position: string; events: string[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(held.status).toBe(202);
  const id = held.body.approvalId as string;
  const request = await cp.call('GET', `/v1/approvals/${id}`, { token: await cp.token(['auditor'], { subject: 'approval-reader' }) });
  expect(request.status).toBe(200);
  const role = (request.body.approverRoles as string[]).find((r) => PLATFORM_WIDE.includes(r)) ?? request.body.approverRoles[0];
  const tenants = PLATFORM_WIDE.includes(role) ? undefined : [request.body.tenantId as string];
  let last;
  for (const subject of Array.from({ length: request.body.requiredApprovers as number }, (_, i) => `approver-${i + 1}`)) {
    last = await cp.call('POST', `/v1/approvals/${id}/approve`, { token: await cp.token([role], { subject, tenants }) });
    expect(last.status).toBe(200);
  }
  expect(last!.body).toMatchObject({ status: 'executed' });
  return last!.body.result;
}
