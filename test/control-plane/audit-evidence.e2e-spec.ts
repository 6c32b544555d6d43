/**
 * Evidence bundles end to end, on a real control plane (PostgreSQL, checkpoints signed with an in-memory Ed25519
 * key): a tenant whose policy was defined, assigned and revised under two-person approval, whose key link was
 * activated and revoked, with the enforcement receipts the mesh bridge records (appended here as the bridge appends
 * them: this harness runs no bridge or workers) and a refused request naming it. The bundle is exported by API and
 * by CLI, verified offline by `cmk audit verify --bundle`, then tampered with in every way an insider could.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BundledEvent, CheckpointsFile, EvidenceManifest, generateEd25519Signer, rawEd25519PublicKey, verifyBundle } from '@cmk/audit';
import { enforcementStream } from '@cmk/domain';
import { runCli } from '../../apps/cli/src/program';
import { DENIED_ATTEMPTS, DeniedAttemptsRecorder } from '../../apps/control-plane/src/http/denied-attempts/denied-attempts.recorder';
import { startTestControlPlane, TestControlPlane } from '../support/control-plane';
import { ALL, approved, seedTenant } from './fixtures';

jest.setTimeout(180_000);

let cp: TestControlPlane;
let admin: string;
let auditor: string;
const dirs: string[] = [];

beforeAll(async () => {
  cp = await startTestControlPlane();
  admin = await cp.token(ALL, { subject: 'platform-admin' });
  auditor = await cp.token(['auditor'], { subject: 'auditor-ann' });
}, 120_000);
afterAll(async () => {
  await cp?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cmk-evidence-'));
  dirs.push(d);
  return d;
}

async function cmk(token: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { CMK_URL: cp.url, CMK_TOKEN: token },
    fetch: globalThis.fetch,
  });
  return { code, stdout, stderr };
}

/** A copy of the bundle in a fresh directory, with `change` applied to its files. */
function tampered(dir: string, change: (files: Record<string, string>) => void): string {
  const files: Record<string, string> = Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
  change(files);
  const copy = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(copy, name), content);
  return copy;
}
const eventsOf = (files: Record<string, string>): BundledEvent[] => files['events.ndjson'].trim().split('\n').map((l) => JSON.parse(l));
const setEvents = (files: Record<string, string>, events: BundledEvent[]) => (files['events.ndjson'] = events.map((e) => JSON.stringify(e) + '\n').join(''));

describe('audit evidence bundles (real control plane on PostgreSQL; receipts appended as the mesh bridge does)', () => {
  let tenantId: string;
  let keyLinkId: string;
  let policyId: string;
  let revokedAt: Date;
  let revokePosition: string;
  let from: string;
  let to: string;
  let bundleDir: string;
  let servedKeyHex: string;

  it('exports by API a bundle with every fact auditors ask for, that verifies offline', async () => {
    from = new Date(Date.now() - 1_000).toISOString();
    ({ tenantId, keyLinkId } = await seedTenant(cp, admin));
    // An early checkpoint, so the bundle carries two and a consistency proof between them.
    expect((await cp.call('POST', '/v1/audit/checkpoints', { token: admin })).status).toBe(200);

    const alice = await cp.token(['security-officer', 'key-admin'], { subject: 'alice' });
    const name = `EU residency <script>alert("evidence")</script> ${tenantId}`;
    const defined = await approved(cp, await cp.call('POST', '/v1/policies', { token: alice, body: { name, document: { geofence: { unwrapRegions: { EU: ['eu-central-1', 'eu-west-1'] } } } } }));
    policyId = defined.id;
    await approved(cp, await cp.call('POST', `/v1/policies/${policyId}/assignments`, { token: alice, body: { scope: tenantId } }));
    await approved(cp, await cp.call('POST', `/v1/policies/${policyId}/versions`, { token: alice, body: { document: { geofence: { unwrapRegions: { EU: ['eu-central-1'] } } } } }));

    const revoke = await cp.call('POST', `/v1/key-links/${keyLinkId}/revoke`, { token: await cp.token(['security-officer'], { subject: 'sam' }), body: { reason: 'suspected compromise' } });
    expect(revoke.status).toBe(200);
    revokePosition = String(revoke.body.position);
    const store = cp.running.infra.store;
    revokedAt = (await store.readStream(`keylink-${keyLinkId}`, { direction: 'backwards', maxCount: 1 }))[0].recordedAt;
    const base = { tenantId, keyLinkId, cause: 'KeyLinkRevoked', revocationPosition: revokePosition };
    const at = (ms: number) => new Date(revokedAt.getTime() + ms).toISOString();
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationDispatched', data: { ...base, regions: ['eu-central-1', 'eu-west-1'] } }], { expectedRevision: 'any' });
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationEnforced', data: { ...base, workerId: 'w-eu-1', region: 'eu-central-1', enforcedAt: at(14) } }], { expectedRevision: 'any' });
    await store.append(enforcementStream(tenantId), [{ type: 'RevocationEnforced', data: { ...base, workerId: 'w-euw-1', region: 'eu-west-1', enforcedAt: at(41) } }], { expectedRevision: 'any' });

    // A refused attempt that names the tenant: an auditor of another tenant exporting this one's evidence.
    const outsider = await cp.token(['auditor'], { subject: 'mallory<img src=x>', tenants: [randomUUID()] });
    const refused = await cp.call('GET', `/v1/audit/evidence?tenantId=${tenantId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date().toISOString())}`, { token: outsider });
    expect(refused.status).toBe(403);
    await cp.running.app.get<symbol, DeniedAttemptsRecorder>(DENIED_ATTEMPTS).flush();
    expect((await cp.call('POST', '/v1/audit/checkpoints', { token: admin })).body.sealed).toBe(true);
    to = new Date(Date.now() + 1_000).toISOString();

    const res = await cp.call('GET', `/v1/audit/evidence?tenantId=${tenantId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&asOf=${encodeURIComponent(new Date(revokedAt.getTime() - 1).toISOString())}`, { token: auditor });
    expect(res.status).toBe(200);
    const files = res.body.files as Record<string, string>;
    expect(Object.keys(files).sort()).toEqual(['README.md', 'checkpoints.json', 'events.ndjson', 'manifest.json', 'proofs.json', 'report.html']);
    const report = verifyBundle(files);
    expect(report.problems).toEqual([]);
    expect(report.counts.checkpoints).toBeGreaterThanOrEqual(2);
    expect(report.counts.consistencyVerified).toBe(report.counts.checkpoints - 1);

    const manifest = JSON.parse(files['manifest.json']) as EvidenceManifest;
    const keys = (await cp.call('GET', '/.well-known/cmk-audit-keys')).body.keys;
    expect(manifest.keys).toEqual(keys);
    servedKeyHex = Buffer.from(keys[0].publicKey, 'base64url').toString('hex');
    expect(manifest.streams[`enforcement-${tenantId}`]).toMatchObject({ selection: 'contiguous', count: 3 });
    expect(Object.entries(manifest.streams).some(([s, d]) => s.startsWith('denied-') && d.selection === 'selected')).toBe(true);
    const types = eventsOf(files).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['TenantOnboarded', 'KeyLinked', 'KeyLinkActivated', 'PolicyDefined', 'PolicyAssigned', 'PolicyRevised', 'ApprovalGranted', 'ApprovalExecuted', 'KeyLinkRevoked', 'RevocationEnforced', 'AccessDenied']));

    const html = files['report.html'];
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;evidence&quot;)&lt;/script&gt;');
    expect(html).toContain('mallory&lt;img src=x&gt;');
    expect(html).toMatch(/initiated by alice; approved by approver-1, approver-2/);
    expect(html).toMatch(/PolicyRevised<\/td><td>[^<]*<\/td><td>2<\/td>/);
    expect(html).toContain(`eu-central-1: ${at(14)} by w-eu-1 (14 ms after the revocation)`);
    expect(html).toContain(`eu-west-1: ${at(41)} by w-euw-1 (41 ms after the revocation)`);
    expect(html).toContain('reason: suspected compromise');
    // Just before the revocation billing could decrypt in eu-central-1 only (the geofence); at the window end nobody.
    expect(html).toMatch(/Some systems could decrypt[\s\S]*eu-central-1<\/td><td>eu-west-1: region-not-allowed/);
    expect(html).toMatch(/Nobody could decrypt/);
  });

  it('is tenant-scoped and validates its input as problem+json', async () => {
    const q = (t: string, f = from, u = to) => `/v1/audit/evidence?tenantId=${t}&from=${encodeURIComponent(f)}&to=${encodeURIComponent(u)}`;
    const scoped = await cp.token(['auditor'], { tenants: [tenantId] });
    expect((await cp.call('GET', q(tenantId), { token: scoped })).status).toBe(200);
    expect((await cp.call('GET', q(tenantId), { token: await cp.token(['security-officer']) })).status).toBe(200);
    expect((await cp.call('GET', q(tenantId), { token: await cp.token(['auditor'], { tenants: [randomUUID()] }) })).status).toBe(403);
    expect((await cp.call('GET', q(tenantId), { token: await cp.token(['key-admin'], { tenants: [tenantId] }) })).status).toBe(403);
    expect((await cp.call('GET', q(tenantId))).status).toBe(401);
    const backwards = await cp.call('GET', q(tenantId, to, from), { token: auditor });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([{ field: 'from', message: 'from must be before to' }]);
    const badId = await cp.call('GET', q('not-a-uuid'), { token: auditor });
    expect(badId.status).toBe(400);
    expect(badId.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(badId.body.errors)).toContain('tenantId');
    expect((await cp.call('GET', q(randomUUID()), { token: auditor })).status).toBe(404);
  });

  it('exports by CLI into a directory and verifies it with no service, trusting the manifest or an operator key', async () => {
    bundleDir = join(tempDir(), 'bundle');
    const exported = await cmk(auditor, 'audit', 'evidence', '--tenant', tenantId, '--from', from, '--to', to, '--out', bundleDir);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/OK: every event, proof, signature and file hash verifies/);
    expect(readdirSync(bundleDir).sort()).toEqual(['README.md', 'checkpoints.json', 'events.ndjson', 'manifest.json', 'proofs.json', 'report.html']);
    expect((await cmk(auditor, 'audit', 'evidence', '--tenant', tenantId, '--from', from, '--to', to, '--out', bundleDir)).code).toBe(2);

    // Offline: a CLI pointed at nothing.
    const offline = async (...args: string[]) => {
      let stdout = '';
      const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, env: { CMK_URL: 'http://127.0.0.1:9' }, fetch: () => Promise.reject(new Error('no network in offline verification')) });
      return { code, stdout };
    };
    const self = await offline('audit', 'verify', '--bundle', bundleDir);
    expect(self.code).toBe(0);
    expect(self.stdout).toMatch(/taken from the bundle's manifest/);
    const keyFile = join(tempDir(), 'audit-key.hex');
    writeFileSync(keyFile, servedKeyHex);
    for (const key of [servedKeyHex, keyFile]) {
      const pinned = await offline('audit', 'verify', '--bundle', bundleDir, '--public-key', key);
      expect(pinned.code).toBe(0);
      expect(pinned.stdout).toMatch(/\(given with --public-key\)/);
    }
    const other = rawEd25519PublicKey(generateEd25519Signer().publicKey).toString('hex');
    const wrongKey = await offline('audit', 'verify', '--bundle', bundleDir, '--public-key', other);
    expect(wrongKey.code).toBe(8);
    expect(wrongKey.stdout).toMatch(/FAILED at checkpoint \d+ \(checkpoint-signature\)/);
    const json = await offline('--json', 'audit', 'verify', '--bundle', bundleDir);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, tenantId });

    // Each way of tampering fails, naming the first bad item.
    const verify = async (dir: string) => offline('audit', 'verify', '--bundle', dir);
    const events = eventsOf(Object.fromEntries([['events.ndjson', readFileSync(join(bundleDir, 'events.ndjson'), 'utf8')]]));
    const revoked = events.find((e) => e.type === 'KeyLinkRevoked')!;
    const activated = events.find((e) => e.type === 'KeyLinkActivated')!;

    const modified = await verify(tampered(bundleDir, (f) => setEvents(f, eventsOf(f).map((e) => (e.position === revoked.position ? { ...e, data: { ...(e.data as object), reason: 'routine rotation' } } : e)))));
    expect(modified.code).toBe(8);
    expect(modified.stdout).toContain(`FAILED at event at position ${revoked.position} (keylink-${keyLinkId}@${revoked.revision}) (modified)`);

    const deleted = await verify(tampered(bundleDir, (f) => setEvents(f, eventsOf(f).filter((e) => e.position !== activated.position))));
    expect(deleted.code).toBe(8);
    expect(deleted.stdout).toContain(`FAILED at event at position ${activated.position} (deleted)`);

    const inserted = await verify(
      tampered(bundleDir, (f) => {
        const all = eventsOf(f);
        const copy = { ...all[all.length - 1], position: String(BigInt(all[all.length - 1].position) + 1n) };
        setEvents(f, [...all, copy]);
      }),
    );
    expect(inserted.code).toBe(8);
    expect(inserted.stdout).toMatch(/FAILED at event at position \d+ .* \(inserted\)/);

    const reordered = await verify(
      tampered(bundleDir, (f) => {
        const all = eventsOf(f);
        const i = all.findIndex((e) => e.position === activated.position);
        [all[i], all[i + 1]] = [all[i + 1], all[i]];
        setEvents(f, all);
      }),
    );
    expect(reordered.code).toBe(8);
    expect(reordered.stdout).toMatch(/FAILED at event at position \d+ .* \(reordered\)/);

    const resigned = await verify(
      tampered(bundleDir, (f) => {
        const cps = JSON.parse(f['checkpoints.json']) as CheckpointsFile;
        const sig = Buffer.from(cps.checkpoints[0].signature, 'base64url');
        sig[0] ^= 0x80;
        cps.checkpoints[0].signature = sig.toString('base64url');
        f['checkpoints.json'] = JSON.stringify(cps);
      }),
    );
    expect(resigned.code).toBe(8);
    expect(resigned.stdout).toMatch(/FAILED at checkpoint \d+ \(checkpoint-signature\): .* does not verify/);

    const mallory = generateEd25519Signer();
    const swapped = tampered(bundleDir, (f) => {
      const m = JSON.parse(f['manifest.json']) as EvidenceManifest;
      m.keys = [{ ...m.keys[0], keyId: mallory.keyId, publicKey: rawEd25519PublicKey(mallory.publicKey).toString('base64url'), spkiPem: mallory.publicKey.export({ type: 'spki', format: 'pem' }).toString() }];
      f['manifest.json'] = JSON.stringify(m);
    });
    const swappedKey = await verify(swapped);
    expect(swappedKey.code).toBe(8);
    expect(swappedKey.stdout).toContain(`trusted key: ${mallory.keyId} (taken from the bundle's manifest`);
    expect(swappedKey.stdout).toMatch(/FAILED at checkpoint \d+ \(checkpoint-signature\): .* not trusted/);
    // The operator's key does not rescue a bundle whose manifest was altered.
    const swappedPinned = await offline('audit', 'verify', '--bundle', swapped, '--public-key', servedKeyHex);
    expect(swappedPinned.code).toBe(8);
    expect(swappedPinned.stdout).toMatch(/FAILED at manifest \(manifest-signature\)/);

    // A file that is no regular file is refused, not followed.
    const withDir = tampered(bundleDir, () => undefined);
    mkdirSync(join(withDir, 'extra'));
    copyFileSync(join(bundleDir, 'README.md'), join(withDir, 'extra', 'README.md'));
    expect((await verify(withDir)).code).toBe(8);
  });
});
