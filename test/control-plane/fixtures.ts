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
