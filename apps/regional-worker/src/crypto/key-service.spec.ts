import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidCiphertextError, KeyProvider } from '@cmk/key-providers';
import { AccessDecision, KeyLinkView, TenantView, TenantViewStore } from '@cmk/orbital';
import { HeartbeatClock } from '../view/heartbeat-clock';
import { RequestDenied } from '../worker.errors';
import { BlobAuthenticationError } from './envelope';
import { KeyService } from './key-service';
import { L2KeyCache } from './l2-key-cache';

/**
 * The key service's ordering rules with an in-memory L1 (AES-GCM in node:crypto) whose calls the test can hold
 * open: the SoftHSM2-backed behaviour is covered in test/worker. This is a test double, not a provider.
 */
class HeldL1 implements Pick<KeyProvider, 'kind' | 'wrap' | 'unwrap'> {
  readonly kind = 'pkcs11';
  readonly key = randomBytes(32);
  calls = 0;
  hold: Promise<void> | null = null;

  async wrap(_ref: string, plaintext: Buffer, aad?: Buffer) {
    this.calls++;
    await this.hold;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv).setAAD(aad ?? Buffer.alloc(0));
    return { ciphertext: Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]), algorithm: 'AES_256_GCM' };
  }

  async unwrap(_ref: string, ciphertext: Buffer, aad?: Buffer) {
    this.calls++;
    await this.hold;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, ciphertext.subarray(0, 12)).setAAD(aad ?? Buffer.alloc(0));
      d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      return Buffer.concat([d.update(ciphertext.subarray(12, ciphertext.length - 16)), d.final()]);
    } catch {
      throw new InvalidCiphertextError('does not open');
    }
  }
}

const link = (keyLinkId: string): KeyLinkView => ({ keyLinkId, status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: `pkcs11:token=t;object=${keyLinkId}`, algorithm: 'AES', keySize: 256, providerRegion: 'eu' });
const view: TenantView = {
  tenantId: 't1', status: 'active', jurisdiction: 'EU', homeRegion: 'eu', allowedRegions: null, maxStalenessMs: 2000,
  systems: { s1: { systemId: 's1', keyLinkId: 'k1', region: 'eu' } }, keyLinks: { k1: link('k1') },
};
const id = { subject: 'w', tenantId: 't1', systemId: 's1' };

function setup() {
  const store = new TenantViewStore('eu');
  store.applyState({ kind: 'tenant-state', position: '1', tenantId: 't1', removed: false, view });
  store.markReady();
  const heartbeat = new HeartbeatClock(() => 0);
  heartbeat.heard({ kind: 'heartbeat', epoch: 1, position: '1', sentAt: '' });
  const l1 = new HeldL1();
  const cache = new L2KeyCache(100);
  const decisions: AccessDecision[] = [];
  const service = new KeyService({ store, region: 'eu', heartbeat, now: () => 0, providers: new Map([['pkcs11', l1 as unknown as KeyProvider]]), cache, onDecision: (_op, _id, d) => decisions.push(d) });
  const revoke = () => store.applyRevocation({ kind: 'revocation', position: '2', cause: 'KeyLinkRevoked', tenantId: 't1', keyLinkId: 'k1', recordedAt: '' });
  return { store, l1, cache, service, decisions, revoke };
}

describe('KeyService', () => {
  it('makes one L2 key per link however many ask at once, and reuses it', async () => {
    const { service, l1, cache } = setup();
    await Promise.all(Array.from({ length: 10 }, () => service.generateDataKey(id, 32)));
    await service.wrap(id, Buffer.from('x'));
    expect(l1.calls).toBe(1);
    expect(cache.size).toBe(1);
  });

  it('never calls the provider for a denied request, and counts the denial', async () => {
    const { service, l1, decisions } = setup();
    await expect(service.generateDataKey({ ...id, systemId: 'nope' }, 32)).rejects.toEqual(new RequestDenied('unknown-system'));
    expect(l1.calls).toBe(0);
    expect(decisions).toEqual([{ allowed: false, reason: 'unknown-system' }]);
  });

  it('a revocation during the provider call wins: the new L2 key is zeroised, not used or cached', async () => {
    const { service, l1, cache, decisions, revoke } = setup();
    let release!: () => void;
    l1.hold = new Promise((r) => (release = r));
    const pending = service.generateDataKey(id, 32);
    await new Promise((r) => setImmediate(r));
    revoke();
    release();
    await expect(pending).rejects.toEqual(new RequestDenied('key-link-revoked'));
    expect(cache.size).toBe(0);
    expect(decisions.map((d) => (d.allowed ? 'allowed' : d.reason))).toEqual(['key-link-revoked']);
  });

  it('a revocation while another worker\'s L2 key is being unwrapped wins too', async () => {
    const maker = setup();
    const { blob } = await maker.service.generateDataKey(id, 32);
    const reader = setup();
    (reader.l1 as { key: Buffer }).key.set(maker.l1.key); // the same L1, reached from another region
    let release!: () => void;
    reader.l1.hold = new Promise((r) => (release = r));
    const pending = reader.service.unwrap(id, blob);
    await new Promise((r) => setImmediate(r));
    reader.revoke();
    release();
    await expect(pending).rejects.toEqual(new RequestDenied('key-link-revoked'));
    expect(reader.cache.size).toBe(0);
  });

  it('opens blobs of other workers through L1, and reports a blob L1 cannot open as invalid', async () => {
    const maker = setup();
    const { blob, plaintext } = await maker.service.generateDataKey(id, 32);
    const reader = setup();
    await expect(reader.service.unwrap(id, blob)).rejects.toBeInstanceOf(BlobAuthenticationError); // another L1
    (reader.l1 as { key: Buffer }).key.set(maker.l1.key);
    expect((await reader.service.unwrap(id, blob)).plaintext.equals(plaintext)).toBe(true);
    expect(reader.cache.size).toBe(1);
  });
});
