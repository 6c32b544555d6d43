/** What-if and the admission of policy changes: a change that makes existing links non-compliant needs consent. */
import { randomUUID } from 'node:crypto';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, tenantBody } from './fixtures';

describe('control plane: policy what-if and impact admission', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL);
  });
  afterAll(() => cp.close());

  async function tenantWithLinks(...links: Record<string, unknown>[]): Promise<{ tenantId: string; linkIds: string[]; position: string }> {
    const tenantId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) })).status).toBe(201);
    const linkIds: string[] = [];
    let position = '0';
    for (const over of links) {
      const res = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody(over) });
      expect(res.status).toBe(201);
      linkIds.push(res.body.id);
      position = res.body.position;
    }
    return { tenantId, linkIds, position };
  }

  it('simulates against the registry as it stood at a past time (replay), not only now', async () => {
    const { tenantId, linkIds } = await tenantWithLinks({ algorithm: 'RSA', keySize: 2048 });
    await new Promise((r) => setTimeout(r, 50));
    const whileLinked = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    expect((await cp.call('POST', `/v1/key-links/${linkIds[0]}/revoke`, { token: admin, body: { reason: 'retire' } })).status).toBe(200);
    await approved(cp, await cp.call('POST', `/v1/key-links/${linkIds[0]}/unlink`, { token: admin, body: { reason: 'retire' } }));
    const draft = { keyStrength: { minimumBits: { RSA: 3072 } } };

    const now = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { scope: tenantId, document: draft } });
    expect(now.body).toMatchObject({ evaluated: 0, keyLinks: 0 });
    const then = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { scope: tenantId, document: draft, asOf: whileLinked } });
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ asOf: whileLinked, evaluated: 1, keyLinks: 1, violations: [{ keyLinkId: linkIds[0], rule: 'key-strength.minimum-bits' }] });
    expect(then.body.replayedEvents).toBeGreaterThan(0);
    const eu = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { scope: 'jurisdiction:EU', document: draft, asOf: whileLinked } });
    expect(eu.body.violations.map((v: { keyLinkId: string }) => v.keyLinkId)).toContain(linkIds[0]);

    const future = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { document: draft, asOf: '2999-01-01T00:00:00Z' } });
    expect(future.status).toBe(400);
    expect(future.body.errors[0].field).toBe('asOf');
    const garbage = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { document: draft, asOf: 'yesterday' } });
    expect(garbage.status).toBe(400);
  });

  it('simulates a draft against a tenant without writing anything', async () => {
    const { tenantId, linkIds, position } = await tenantWithLinks({ algorithm: 'RSA', keySize: 2048 }, { algorithm: 'AES', keySize: 256, providerRegion: 'us-east-1' });
    const before = await cp.call('GET', `/v1/audit/events?tenantId=${tenantId}&minPosition=${position}`, { token: admin });
    const res = await cp.call('POST', '/v1/policies/simulate', {
      token: admin,
      body: { scope: tenantId, document: { keyStrength: { minimumBits: { RSA: 3072 } }, geofence: { rootOfTrustRegions: { EU: ['eu-central-1'] } } } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ scope: tenantId, evaluated: 2, keyLinks: 2, tenants: 1, truncated: false });
    expect(res.body.violations.map((v: { keyLinkId: string; rule: string }) => [v.keyLinkId, v.rule]).sort()).toEqual(
      [
        [linkIds[0], 'key-strength.minimum-bits'],
        [linkIds[1], 'geofence.root-of-trust-region'],
      ].sort(),
    );
    const after = await cp.call('GET', `/v1/audit/events?tenantId=${tenantId}`, { token: admin });
    expect(after.body.items).toHaveLength(before.body.items.length);
    const bad = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { document: { keyStrength: { minimumBits: { RSA: -1 } } } } });
    expect(bad.status).toBe(400);
  });

  it('refuses an assignment or a revision that breaks existing links unless the impact is accepted, then records it', async () => {
    const { tenantId, linkIds } = await tenantWithLinks({ algorithm: 'RSA', keySize: 3072 });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'rsa floor', document: { keyStrength: { minimumBits: { RSA: 3072 } } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId } }));

    const tighter = { document: { keyStrength: { minimumBits: { RSA: 4096 } } } };
    const refused = await cp.call('POST', `/v1/policies/${policy.id}/versions`, { token: admin, body: tighter });
    expect(refused.status).toBe(422);
    expect(refused.body.violations[0]).toMatchObject({ rule: 'policy.impact' });
    expect(refused.body.violations[0].message).toContain('1 existing key links of 1 tenants');
    expect(refused.body.violations[1]).toMatchObject({ rule: 'key-strength.minimum-bits' });
    expect(refused.body.violations[1].message).toContain(linkIds[0]);

    const accepted = await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/versions`, { token: admin, body: { ...tighter, acceptImpact: true } }));
    const events = await cp.call('GET', `/v1/audit/events?type=PolicyRevised&minPosition=${accepted.position}`, { token: admin });
    const revised = events.body.items.find((e: { data: { policyId: string } }) => e.data.policyId === policy.id);
    expect(revised.data.acceptedImpact).toEqual({ keyLinks: 1, tenants: 1 });

    // Assigning elsewhere: a tenant with a weak link refuses it too, unless accepted.
    const other = await tenantWithLinks({ algorithm: 'RSA', keySize: 2048 });
    const assign = await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: other.tenantId } });
    expect(assign.status).toBe(422);
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: other.tenantId, acceptImpact: true } }));
  });

  it('accepts policy documents in YAML, and publishes the JSON Schema of documents', async () => {
    const yaml = ['name: EU residency (YAML)', 'document:', '  geofence:', '    unwrapRegions:', '      EU: [eu-central-1]', '  failClosed:', '    maxStalenessMs: 1500', ''].join('\n');
    const res = await fetch(`${cp.url}/v1/policies`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' }, body: yaml });
    const { id, position } = await approved(cp, { status: res.status, body: await res.json() });
    const read = await cp.call('GET', `/v1/policies/${id}?minPosition=${position}`, { token: admin });
    expect(read.body.versions[0].document).toEqual({ geofence: { unwrapRegions: { EU: ['eu-central-1'] } }, failClosed: { maxStalenessMs: 1500 } });

    const broken = await fetch(`${cp.url}/v1/policies/simulate`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' }, body: 'document:\n  keyStrength: [unclosed\n' });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toContain('application/problem+json');
    expect(((await broken.json()) as { detail: string }).detail).toMatch(/cannot be parsed at line \d+, column \d+/);
    const badField = await fetch(`${cp.url}/v1/policies/simulate`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/yaml' }, body: 'document:\n  failClosed:\n    maxStalenessMs: 5\n' });
    expect(badField.status).toBe(400);
    expect(JSON.stringify(await badField.json())).toContain('$.failClosed.maxStalenessMs');

    const schema = await cp.call('GET', '/v1/policies/schema', { token: admin });
    expect(schema.status).toBe(200);
    expect(schema.body).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', additionalProperties: false });
    expect(Object.keys(schema.body.properties).sort()).toEqual(['approvals', 'failClosed', 'geofence', 'hyokHealth', 'keyStrength', 'providers', 'rotation']);
  });

  it('refuses a tenant policy that loosens a global guardrail, naming it, whatever impact is accepted', async () => {
    const global = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'providers', document: { providers: { allowedKinds: ['pkcs11', 'aws-kms'] } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${global.id}/assignments`, { token: admin, body: { scope: 'global', acceptImpact: true } }));
    const { tenantId } = await tenantWithLinks();
    const looser = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'tenant wants gcp', document: { providers: { allowedKinds: ['pkcs11', 'gcp-kms'] } } } }));
    const refused = await cp.call('POST', `/v1/policies/${looser.id}/assignments`, { token: admin, body: { scope: tenantId, acceptImpact: true } });
    expect(refused.status).toBe(422);
    expect(refused.body.violations).toEqual([
      expect.objectContaining({ rule: 'guardrail.loosens', policyId: global.id, message: '$.providers.allowedKinds: allows provider kinds gcp-kms, which the wider policy does not' }),
    ]);
    const tighter = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'tenant: HSM only', document: { providers: { allowedKinds: ['pkcs11'] } } } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${tighter.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    // Revising the tenant's policy to loosen it is refused the same way.
    const revised = await cp.call('POST', `/v1/policies/${tighter.id}/versions`, { token: admin, body: { document: { providers: { allowedKinds: ['pkcs11', 'azure-keyvault'] } } } });
    expect(revised.status).toBe(422);
    expect(revised.body.violations[0].rule).toBe('guardrail.loosens');
  });

  it('governs every tenant of a jurisdiction through a jurisdiction scope, which tenant policies may only tighten', async () => {
    const eu = await tenantWithLinks();
    const usId = randomUUID();
    expect((await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId: usId, jurisdiction: 'US', homeRegion: 'us-east-1' }) })).status).toBe(201);
    const euRoots = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'EU roots', document: { geofence: { rootOfTrustRegions: { EU: ['eu-central-1', 'eu-west-1'], US: ['us-east-1'] } } } } }));
    // Earlier tests left EU links rooted in us-east-1: the assignment needs their impact accepted.
    await approved(cp, await cp.call('POST', `/v1/policies/${euRoots.id}/assignments`, { token: admin, body: { scope: 'jurisdiction:EU', acceptImpact: true } }));
    const euLink = await cp.call('POST', `/v1/tenants/${eu.tenantId}/key-links`, { token: admin, body: linkBody({ providerRegion: 'us-east-1' }) });
    expect(euLink.status).toBe(422);
    expect(euLink.body.violations.map((v: { rule: string }) => v.rule)).toContain('geofence.root-of-trust-region');
    // A US tenant is not governed by the EU jurisdiction's policy.
    expect((await cp.call('POST', `/v1/tenants/${usId}/key-links`, { token: admin, body: linkBody({ providerRegion: 'ap-south-1' }) })).status).toBe(201);

    const looser = await approved(cp, await cp.call('POST', '/v1/policies', { token: admin, body: { name: 'tenant roots', document: { geofence: { rootOfTrustRegions: { EU: ['eu-central-1', 'eu-north-1'] } } } } }));
    const refused = await cp.call('POST', `/v1/policies/${looser.id}/assignments`, { token: admin, body: { scope: eu.tenantId } });
    expect(refused.status).toBe(422);
    expect(refused.body.violations[0]).toMatchObject({ rule: 'guardrail.loosens', policyId: euRoots.id });

    expect((await cp.call('POST', `/v1/policies/${euRoots.id}/assignments`, { token: admin, body: { scope: 'jurisdiction:XX' } })).status).toBe(400);
    const tenantAdmin = await cp.token(['platform-operator'], { tenants: [eu.tenantId] });
    expect((await cp.call('POST', `/v1/policies/${euRoots.id}/assignments`, { token: tenantAdmin, body: { scope: 'jurisdiction:EU' } })).status).toBe(403);
    const sim = await cp.call('POST', '/v1/policies/simulate', { token: admin, body: { scope: 'jurisdiction:US', document: { geofence: { rootOfTrustRegions: { US: ['us-east-1'] } } } } });
    expect(sim.status).toBe(200);
    expect(sim.body.violations.some((v: { tenantId: string }) => v.tenantId === usId)).toBe(true);
  });
});
