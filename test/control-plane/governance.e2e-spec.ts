import { randomUUID } from 'node:crypto';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, linkBody, seedTenant, tenantBody } from './fixtures';

describe('control plane: governance flows over REST on PostgreSQL', () => {
  let cp: TestControlPlane;
  let admin: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    admin = await cp.token(ALL, { subject: 'alice' });
  });
  afterAll(() => cp.close());

  it('onboards a tenant and reads it back at the returned position with an ETag', async () => {
    const tenantId = randomUUID();
    const created = await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: tenantId, revision: 0, events: ['TenantOnboarded'] });
    expect(created.headers.get('location')).toBe(`/v1/tenants/${tenantId}`);
    const read = await cp.call('GET', `/v1/tenants/${tenantId}?minPosition=${created.body.position}`, { token: admin });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ tenantId, displayName: 'ACME Europe GmbH', jurisdiction: 'EU', status: 'active', revision: 0 });
    expect(read.headers.get('etag')).toBe('"0"');
  });

  it('runs the key link lifecycle: link, activate, revoke (idempotent), restore, revoke, unlink', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'incident 42' } });
    expect(revoke.status).toBe(200);
    expect(revoke.body.events).toEqual(['KeyLinkRevoked']);
    const again = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'incident 42 again' } });
    expect(again.status).toBe(200);
    expect(again.body.events).toEqual([]);
    const activate = await cp.call('POST', `/v1/key-links/${keyLinkId}/activate`, { token: admin, body: {} });
    expect(activate.status).toBe(409);
    expect(activate.body.code).toBe('key-link.revoked');
    let link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${again.body.position}`, { token: admin });
    expect(link.body).toMatchObject({ status: 'revoked', revocationReason: 'incident 42', tenantId });
    // Resuming must be hard: restoring waits for two approvers (the default policy).
    const restore = await approved(cp, await cp.call('POST', `/v1/key-links/${keyLinkId}/restore`, { token: admin, body: { reason: 'incident closed' } }));
    expect(restore.events).toEqual(['KeyLinkRestored']);
    link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${restore.position}`, { token: admin });
    expect(link.body.status).toBe('active');
    const unlinkActive = await cp.call('POST', `/v1/key-links/${keyLinkId}/unlink`, { token: admin, body: { reason: 'done' } });
    expect(unlinkActive.status).toBe(409);
    expect(unlinkActive.body.code).toBe('key-link.active');
    await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'retire' } });
    const unlink = await approved(cp, await cp.call('POST', `/v1/key-links/${keyLinkId}/unlink`, { token: admin, body: { reason: 'retired' } }));
    link = await cp.call('GET', `/v1/key-links/${keyLinkId}?minPosition=${unlink.position}`, { token: admin });
    expect(link.body.status).toBe('unlinked');
  });

  it('refuses offboarding while a link is active, and allows it after revocation', async () => {
    const { tenantId, keyLinkId } = await seedTenant(cp, admin);
    const refused = await cp.call('POST', `/v1/tenants/${tenantId}/offboard`, { token: admin, body: { reason: 'contract ended' } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'tenant.has-active-key-links', activeKeyLinkIds: [keyLinkId] });
    await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'offboarding' } });
    const ok = await approved(cp, await cp.call('POST', `/v1/tenants/${tenantId}/offboard`, { token: admin, body: { reason: 'contract ended' } }));
    expect(ok.events).toEqual(['TenantOffboarded']);
    const restore = await cp.call('POST', `/v1/key-links/${keyLinkId}/restore`, { token: admin, body: { reason: 'oops' } });
    expect(restore.status).toBe(409);
    expect(restore.body.code).toBe('tenant.not-active');
  });

  it('binds systems only to their own tenant links and rebinds them explicitly', async () => {
    const a = await seedTenant(cp, admin);
    const b = await seedTenant(cp, admin);
    const foreign = await cp.call('POST', `/v1/tenants/${a.tenantId}/systems`, { token: admin, body: { name: 'x', region: 'eu-central-1', keyLinkId: b.keyLinkId } });
    expect(foreign.status).toBe(409);
    expect(foreign.body.code).toBe('system.key-link-of-other-tenant');
    const second = await cp.call('POST', `/v1/tenants/${a.tenantId}/key-links`, { token: admin, body: linkBody({ providerRegion: 'eu-west-1' }) });
    const rebind = await cp.call('POST', `/v1/systems/${a.systemId}/rebind`, { token: admin, body: { keyLinkId: second.body.id } });
    expect(rebind.status).toBe(200);
    expect(rebind.body.events).toEqual(['SystemRebound']);
    const sys = await cp.call('GET', `/v1/systems/${a.systemId}?minPosition=${rebind.body.position}`, { token: admin });
    expect(sys.body.keyLinkId).toBe(second.body.id);
    const list = await cp.call('GET', `/v1/systems?keyLinkId=${second.body.id}`, { token: admin });
    expect(list.body.items.map((s: { systemId: string }) => s.systemId)).toEqual([a.systemId]);
  });

  it('enforces the minimum key strength of assigned policies at link time with a 422 naming the rule', async () => {
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', {
      token: admin,
      body: { name: 'strong keys', document: { keyStrength: { allowedAlgorithms: ['AES', 'RSA'], minimumBits: { AES: 256, RSA: 3072 } } } },
    }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    const weak = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'RSA', keySize: 2048 }) });
    expect(weak.status).toBe(422);
    expect(weak.headers.get('content-type')).toContain('application/problem+json');
    expect(weak.body.violations).toEqual([expect.objectContaining({ rule: 'key-strength.minimum-bits', policyId: policy.id, policyVersion: 1 })]);
    const ec = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'EC', keySize: 384 }) });
    expect(ec.status).toBe(422);
    expect(ec.body.violations[0].rule).toBe('key-strength.allowed-algorithms');
    const strong = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'RSA', keySize: 3072 }) });
    expect(strong.status).toBe(201);
    // A new version that tightens the rule applies to the next link (the assignment follows the latest version).
    // It makes the RSA-3072 link non-compliant, so it needs the author's consent (see policy-impact.e2e-spec.ts).
    const tighter = { document: { keyStrength: { minimumBits: { RSA: 4096 } } }, basedOnVersion: 1 };
    expect((await cp.call('POST', `/v1/policies/${policy.id}/versions`, { token: admin, body: tighter })).status).toBe(422);
    const v2 = await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/versions`, { token: admin, body: { ...tighter, acceptImpact: true } }));
    const nowWeak = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ algorithm: 'RSA', keySize: 3072 }) });
    expect(nowWeak.status).toBe(422);
    expect(nowWeak.body.violations[0]).toMatchObject({ rule: 'key-strength.minimum-bits', policyVersion: 2 });
    const read = await cp.call('GET', `/v1/policies/${policy.id}?minPosition=${v2.position}`, { token: admin });
    expect(read.body).toMatchObject({ latestVersion: 2 });
    expect(read.body.versions).toHaveLength(2);
  });

  it('keeps roots of trust in allowed provider kinds and regions at link time (422 naming each rule)', async () => {
    const tenantId = randomUUID();
    await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ tenantId }) });
    const policy = await approved(cp, await cp.call('POST', '/v1/policies', {
      token: admin,
      body: { name: 'EU sovereignty', document: { providers: { allowedKinds: ['pkcs11', 'aws-kms'] }, geofence: { rootOfTrustRegions: { EU: ['eu-central-1', 'eu-west-1'] } } } },
    }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policy.id}/assignments`, { token: admin, body: { scope: tenantId } }));
    const both = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ providerKind: 'gcp-kms', providerRegion: 'us-central1' }) });
    expect(both.status).toBe(422);
    expect(both.body.violations.map((v: { rule: string }) => v.rule)).toEqual(['providers.allowed-kinds', 'geofence.root-of-trust-region']);
    const ok = await cp.call('POST', `/v1/tenants/${tenantId}/key-links`, { token: admin, body: linkBody({ providerKind: 'aws-kms', providerRegion: 'eu-west-1' }) });
    expect(ok.status).toBe(201);
  });

  it('lists tenants with filters and cursor pagination', async () => {
    const ids: string[] = [];
    let position = '0';
    for (let i = 0; i < 7; i++) {
      const r = await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ jurisdiction: 'CH', displayName: `Swiss ${i}` }) });
      ids.push(r.body.id);
      position = r.body.position;
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { tenantId: string }[]; nextCursor: string | null } } = await cp.call(
        'GET',
        `/v1/tenants?jurisdiction=CH&limit=3&minPosition=${position}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin },
      );
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((t) => t.tenantId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('records every command in the audit log with the actor, and replays a tenant as of a past time', async () => {
    const { tenantId, keyLinkId, position } = await seedTenant(cp, admin);
    await new Promise((r) => setTimeout(r, 50));
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    const revoked = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: admin, body: { reason: 'audit test' } });
    const events = await cp.call('GET', `/v1/audit/events?tenantId=${tenantId}&minPosition=${revoked.body.position}`, { token: admin });
    expect(events.status).toBe(200);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['TenantOnboarded', 'KeyLinked', 'KeyLinkActivated', 'SystemRegistered', 'KeyLinkRevoked']),
    );
    const revokedEvent = events.body.items.find((e: { type: string }) => e.type === 'KeyLinkRevoked');
    expect(revokedEvent.metadata).toMatchObject({ actor: { subject: 'alice' }, schemaVersion: 1 });
    expect(revokedEvent.metadata.commandId).toEqual(expect.any(String));
    expect(revokedEvent.metadata.correlationId).toEqual(expect.any(String));
    const byType = await cp.call('GET', `/v1/audit/events?type=KeyLinkRevoked&actor=alice&tenantId=${tenantId}`, { token: admin });
    expect(byType.body.items).toHaveLength(1);

    const past = await cp.call('GET', `/v1/tenants/${tenantId}/state?asOf=${encodeURIComponent(before)}`, { token: admin });
    expect(past.status).toBe(200);
    expect(past.body.keyLinks[0]).toMatchObject({ keyLinkId, status: 'active' });
    expect(past.body.couldDecrypt).toHaveLength(1);
    expect(BigInt(past.body.position)).toBeLessThanOrEqual(BigInt(position));
    const now = await cp.call('GET', `/v1/tenants/${tenantId}/state?asOf=${encodeURIComponent(new Date().toISOString())}`, { token: admin });
    expect(now.body.keyLinks[0].status).toBe('revoked');
    expect(now.body.couldDecrypt).toEqual([]);
  });

  it('replays the first response for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const key = randomUUID();
    const body = tenantBody();
    const first = await cp.call('POST', '/v1/tenants', { token: admin, body, headers: { 'idempotency-key': key } });
    const second = await cp.call('POST', '/v1/tenants', { token: admin, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const other = await cp.call('POST', '/v1/tenants', { token: admin, body: tenantBody({ displayName: 'Other' }), headers: { 'idempotency-key': key } });
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
    const list = await cp.call('GET', `/v1/audit/events?type=TenantOnboarded&stream=tenant-${first.body.id}&minPosition=${first.body.position}`, { token: admin });
    expect(list.body.items).toHaveLength(1);
  });

  it('serves health, metrics and the OpenAPI document', async () => {
    expect((await cp.call('GET', '/health/live')).status).toBe(200);
    const ready = await cp.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect((await cp.call('GET', '/health')).status).toBe(401);
    const details = await cp.call('GET', '/health', { token: admin });
    expect(details.body.eventStore.status).toBe('up');
    expect(details.body.projections.length).toBeGreaterThan(0);
    const metrics = await cp.call('GET', '/metrics', { token: admin });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('cmk_http_requests_total');
    expect(metrics.body).toContain('cmk_projection_lag_seconds');
    const openapi = await cp.call('GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/v1/tenants', '/v1/key-links/{keyLinkId}/revoke', '/v1/audit/events']));
    const ui = await fetch(`${cp.url}/docs`);
    expect(ui.status).toBe(200);
  });
});
