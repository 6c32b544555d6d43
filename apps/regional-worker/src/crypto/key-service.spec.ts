import { randomBytes } from 'node:crypto';
import type { KeyProvider } from '@cmk/key-providers';
import { AccessDecision, KeyLinkView, registerTenantKey, TenantKeyGeneratedMessage, TenantKeyView, TenantView, TenantViewStore } from '@cmk/orbital';
import { HeartbeatClock } from '../view/heartbeat-clock';
import { ViewChanges } from '../view/view-changes';
import { RequestDenied, TenantKeyUnavailable } from '../worker.errors';
import { encodeLegacyHeader, l1Aad, l2Fingerprint, parseBlob, seal } from './envelope';
import { KeyService } from './key-service';
import { L2KeyCache } from './l2-key-cache';
import { HeldL1 } from './testing/held-l1';

/**
 * The key service's ordering rules with an in-memory L1 whose calls the test can hold open, and a registrar
 * standing in for the mesh bridge: the SoftHSM2-backed behaviour with the real bridge is covered in test/worker.
 */
const link = (keyLinkId: string, over: Partial<KeyLinkView> = {}): KeyLinkView => ({ keyLinkId, status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=t;object=${keyLinkId}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu', ...over });
const id = { subject: 'w', tenantId: 't1', systemId: 's1' };

/** Stands in for the mesh bridge: the first proposal per version is registered, and the view reaches every worker. */
class Registrar {
  keys: readonly TenantKeyView[] | undefined;
  tenantKeyVersion: number | undefined;
  proposals: TenantKeyGeneratedMessage[] = [];
  holding = false;
  private position = 1;
  private readonly workers: { store: TenantViewStore; views: ViewChanges }[] = [];

  attach(store: TenantViewStore, views: ViewChanges): void {
    this.workers.push({ store, views });
    this.publish(store);
  }

  propose = (m: TenantKeyGeneratedMessage): void => {
    this.proposals.push(m);
    if (!this.holding) setImmediate(() => this.register(m));
  };

  register(m: TenantKeyGeneratedMessage): void {
    this.keys = registerTenantKey(this.keys, { l2Id: m.l2Id, l2Version: m.l2Version, wrappedL2: m.wrappedL2, l2Fingerprint: m.l2Fingerprint });
    this.publishAll();
  }

  publishAll(): void {
    this.position++;
    for (const { store, views } of this.workers) {
      this.publish(store);
      views.notify('t1');
    }
  }

  private publish(store: TenantViewStore): void {
    const k1 = link('k1', { ...(this.keys ? { tenantKeys: this.keys } : {}), ...(this.tenantKeyVersion ? { tenantKeyVersion: this.tenantKeyVersion } : {}) });
    const view: TenantView = {
      tenantId: 't1', status: 'active', jurisdiction: 'EU', homeRegion: 'eu', allowedRegions: null, maxStalenessMs: 2000,
      systems: { s1: { systemId: 's1', keyLinkId: 'k1', region: 'eu' } }, keyLinks: { k1 },
    };
    store.applyState({ kind: 'tenant-state', position: String(this.position), tenantId: 't1', removed: false, view });
  }
}

function worker(registrar = new Registrar(), l1 = new HeldL1(), timeoutMs = 2_000) {
  const store = new TenantViewStore('eu');
  const views = new ViewChanges();
  registrar.attach(store, views);
  store.markReady();
  const heartbeat = new HeartbeatClock(() => 0);
  heartbeat.heard({ kind: 'heartbeat', epoch: 1, position: '1', sentAt: '' });
  const cache = new L2KeyCache(100);
  const decisions: AccessDecision[] = [];
  const service = new KeyService({
    store, workerId: 'w', region: 'eu', heartbeat, now: () => 0, providers: new Map([['pkcs11', l1 as unknown as KeyProvider]]), cache,
    propose: registrar.propose, views, registrationTimeoutMs: timeoutMs, onDecision: (_op, _id, d) => decisions.push(d),
  });
  const revoke = () => {
    store.applyRevocation({ kind: 'revocation', position: '1000', cause: 'KeyLinkRevoked', tenantId: 't1', keyLinkId: 'k1', recordedAt: '' });
    views.notify('t1');
  };
  return { store, l1, cache, service, decisions, revoke, registrar };
}

const l2IdOf = (blob: Buffer) => parseBlob(blob).l2Id.toString('hex');
const tick = () => new Promise((r) => setImmediate(r));

describe('KeyService', () => {
  it('registers one L2 key per link however many ask at once, seals only after it is registered, and reuses it', async () => {
    const { service, l1, cache, registrar } = worker();
    const blobs = await Promise.all(Array.from({ length: 10 }, () => service.generateDataKey(id, 32)));
    await service.wrap(id, Buffer.from('x'));
    expect(registrar.proposals).toHaveLength(1);
    expect(registrar.proposals[0]).toMatchObject({ kind: 'tenant-key-generated', keyLinkId: 'k1', tenantId: 't1', l2Version: 1, l2Fingerprint: expect.stringMatching(/^kcv:[0-9a-f]{6}$/) });
    expect(l1.calls).toEqual({ wrap: 1, unwrap: 0 });
    expect(cache.size).toBe(1);
    expect(new Set(blobs.map((b) => l2IdOf(b.blob)))).toEqual(new Set([registrar.keys![0].l2Id]));
    expect(parseBlob(blobs[0].blob).version).toBe(2);
  });

  it('two workers making an L2 key at once: the first registered wins, the other zeroises its own and uses the winner', async () => {
    const registrar = new Registrar();
    registrar.holding = true;
    const l1 = new HeldL1();
    const [a, b] = [worker(registrar, l1), worker(registrar, l1)];
    const pending = [a.service.generateDataKey(id, 32), b.service.generateDataKey(id, 32)];
    while (registrar.proposals.length < 2) await tick();
    expect(registrar.proposals[0].l2Id).not.toBe(registrar.proposals[1].l2Id);
    registrar.register(registrar.proposals[1]); // b's arrives first at the bridge
    registrar.register(registrar.proposals[0]); // a's loses
    const [fromA, fromB] = await Promise.all(pending);
    expect(registrar.keys).toHaveLength(1);
    expect(l2IdOf(fromA.blob)).toBe(registrar.proposals[1].l2Id);
    expect(l2IdOf(fromB.blob)).toBe(registrar.proposals[1].l2Id);
    expect(a.cache.keysOf('t1').map((k) => k.l2Id.toString('hex'))).toEqual([registrar.proposals[1].l2Id]);
    expect((await b.service.unwrap(id, fromA.blob)).plaintext.equals(fromA.plaintext)).toBe(true);
  });

  it('after an L2 rotation, new data keys use the new version only; the old version still opens old blobs', async () => {
    const { service, registrar, cache } = worker();
    const before = await service.generateDataKey(id, 32);
    registrar.tenantKeyVersion = 2;
    registrar.publishAll();
    const after = await service.generateDataKey(id, 32);
    const again = await service.wrap(id, Buffer.from('y'));
    expect(registrar.keys!.map((k) => k.l2Version)).toEqual([1, 2]);
    expect(l2IdOf(after.blob)).toBe(registrar.keys![1].l2Id);
    expect(l2IdOf(again.blob)).toBe(registrar.keys![1].l2Id);
    expect((await service.unwrap(id, before.blob)).plaintext.equals(before.plaintext)).toBe(true);
    expect(cache.size).toBe(2);
  });

  it('a worker that never held an L2 key unwraps it from the registry, checked against its fingerprint', async () => {
    const registrar = new Registrar();
    const l1 = new HeldL1();
    const maker = worker(registrar, l1);
    const { blob, plaintext } = await maker.service.generateDataKey(id, 32);
    const reader = worker(registrar, l1);
    expect((await reader.service.unwrap(id, blob)).plaintext.equals(plaintext)).toBe(true);
    expect(reader.l1.calls.unwrap).toBe(1);

    // A registry entry whose wrapped key opens to another key than its fingerprint says is refused.
    const third = worker(registrar, l1);
    registrar.keys = registrar.keys!.map((k) => ({ ...k, l2Fingerprint: 'kcv:000000' }));
    registrar.publishAll();
    await expect(third.service.unwrap(id, blob)).rejects.toEqual(new TenantKeyUnavailable('tenant-key-integrity'));
    expect(third.cache.size).toBe(0);
  });

  it('refuses a blob naming an L2 key the registry does not hold, and still opens version 1 blobs', async () => {
    const { service, l1 } = worker();
    const { blob } = await service.generateDataKey(id, 32);
    const foreign = Buffer.from(blob);
    foreign[2 + 2] ^= 1; // inside the l2Id
    await expect(service.unwrap(id, foreign)).rejects.toEqual(new TenantKeyUnavailable('tenant-key-unknown'));

    const l2 = randomBytes(32);
    const l2Id = randomBytes(16);
    const { ciphertext } = await l1.wrap('', l2, l1Aad('t1', 'k1', l2Id));
    const dataKey = randomBytes(32);
    const legacy = seal(l2, encodeLegacyHeader({ keyLinkId: 'k1', l2Id, wrappedL2: ciphertext }), 't1', 's1', dataKey);
    expect((await service.unwrap(id, legacy)).plaintext.equals(dataKey)).toBe(true);
    expect(l2Fingerprint(l2)).toMatch(/^kcv:/);
  });

  it('a registration that does not come back in time fails the request, and the key made for it is never used', async () => {
    const registrar = new Registrar();
    registrar.holding = true;
    const { service, cache } = worker(registrar, new HeldL1(), 150);
    await expect(service.generateDataKey(id, 32)).rejects.toEqual(new TenantKeyUnavailable('tenant-key-not-registered'));
    expect(cache.size).toBe(0);
    // The late registration of that proposal makes it the version's key: the next request unwraps it through L1.
    registrar.register(registrar.proposals[0]);
    const { blob } = await service.generateDataKey(id, 32);
    expect(l2IdOf(blob)).toBe(registrar.proposals[0].l2Id);
    expect(registrar.proposals).toHaveLength(1);
  });

  it('never calls the provider for a denied request, and counts the denial', async () => {
    const { service, l1, decisions } = worker();
    await expect(service.generateDataKey({ ...id, systemId: 'nope' }, 32)).rejects.toEqual(new RequestDenied('unknown-system'));
    expect(l1.calls).toEqual({ wrap: 0, unwrap: 0 });
    expect(decisions).toEqual([{ allowed: false, reason: 'unknown-system' }]);
  });

  it('a revocation during the provider call wins: the new L2 key is zeroised, not proposed, used or cached', async () => {
    const { service, l1, cache, decisions, revoke, registrar } = worker();
    let release!: () => void;
    l1.hold = new Promise((r) => (release = r));
    const pending = service.generateDataKey(id, 32);
    await tick();
    revoke();
    release();
    await expect(pending).rejects.toEqual(new RequestDenied('key-link-revoked'));
    expect(cache.size).toBe(0);
    expect(registrar.keys).toBeUndefined();
    expect(decisions.map((d) => (d.allowed ? 'allowed' : d.reason))).toEqual(['key-link-revoked']);
  });

  it('a revocation while waiting for the registration ends the wait at once with a denial', async () => {
    const registrar = new Registrar();
    registrar.holding = true;
    const { service, cache, revoke } = worker(registrar, new HeldL1(), 60_000);
    const pending = service.generateDataKey(id, 32);
    while (registrar.proposals.length < 1) await tick();
    const started = Date.now();
    revoke();
    await expect(pending).rejects.toEqual(new RequestDenied('key-link-revoked'));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(cache.size).toBe(0);
  });

  it("a revocation while another worker's L2 key is being unwrapped wins too", async () => {
    const registrar = new Registrar();
    const l1 = new HeldL1();
    const { blob } = await worker(registrar, l1).service.generateDataKey(id, 32);
    const reader = worker(registrar, l1);
    let release!: () => void;
    l1.hold = new Promise((r) => (release = r));
    const pending = reader.service.unwrap(id, blob);
    await tick();
    reader.revoke();
    release();
    await expect(pending).rejects.toEqual(new RequestDenied('key-link-revoked'));
    expect(reader.cache.size).toBe(0);
  });
});
