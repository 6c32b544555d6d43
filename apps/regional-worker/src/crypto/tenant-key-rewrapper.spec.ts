import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { KeyLinkView, TenantKeyRewrappedMessage, TenantKeyView, TenantViewStore } from '@cmk/orbital';
import { l1Aad, l2Fingerprint } from './envelope';
import { TenantKeyRewrapper } from './tenant-key-rewrapper';
import { HeldL1 } from './testing/held-l1';

/** The re-wrap rules with an in-memory L1 (see HeldL1); the SoftHSM2 run with the real bridge is in test/worker. */
async function setup(registered: number) {
  const l1 = new HeldL1();
  const l2s = Array.from({ length: registered }, () => ({ id: randomBytes(16), key: randomBytes(32) }));
  const keys: TenantKeyView[] = [];
  for (const [i, l2] of l2s.entries()) {
    const { ciphertext } = await l1.wrap('', l2.key, l1Aad('t1', 'k1', l2.id));
    keys.push({ l2Id: l2.id.toString('hex'), l2Version: i + 1, wrappedL2: ciphertext.toString('base64'), l1KeyVersion: 'v1', l2Fingerprint: l2Fingerprint(l2.key) });
  }
  l1.calls = { wrap: 0, unwrap: 0 };
  const store = new TenantViewStore('eu');
  let position = 1;
  const publish = (over: Partial<KeyLinkView>) => {
    const k1: KeyLinkView = { keyLinkId: 'k1', status: 'active', providerKind: 'pkcs11', mode: 'HYOK', keyReference: 'ref', algorithm: 'AES', keySize: 256, providerRegion: 'eu', tenantKeys: keys, l1KeyVersion: 'v1', ...over };
    store.applyState({
      kind: 'tenant-state', position: String(position++), tenantId: 't1', removed: false,
      view: { tenantId: 't1', status: 'active', jurisdiction: 'EU', homeRegion: 'eu', allowedRegions: null, maxStalenessMs: 2000, systems: {}, keyLinks: { k1 } },
    });
  };
  publish({});
  store.markReady();
  const reports: TenantKeyRewrappedMessage[] = [];
  const rewrapper = new TenantKeyRewrapper({ store, workerId: 'w1', region: 'eu', providers: new Map([['pkcs11', l1.asProvider()]]), report: (m) => reports.push(m), log: pino({ level: 'silent' }) });
  return { l1, l2s, keys, store, publish, reports, rewrapper };
}

describe('TenantKeyRewrapper', () => {
  it('re-wraps every L2 key left under an older L1 version once, verified before it is reported; the key stays the same', async () => {
    const { l1, l2s, keys, publish, reports, rewrapper } = await setup(2);
    rewrapper.onView('t1'); // nothing stale
    publish({ l1KeyVersion: 'v2' });
    rewrapper.onView('t1');
    rewrapper.onView('t1'); // seen again before the reports came back: not queued twice
    await rewrapper.idle();
    expect(reports.map((r) => [r.l2Id, r.l1KeyVersion, r.previousL1KeyVersion])).toEqual(keys.map((k) => [k.l2Id, 'v2', 'v1']));
    expect(l1.calls).toEqual({ wrap: 2, unwrap: 4 }); // unwrap, wrap, unwrap to check: per key
    for (const [i, report] of reports.entries()) {
      expect(report.wrappedL2).not.toBe(keys[i].wrappedL2);
      const opened = await l1.unwrap('', Buffer.from(report.wrappedL2, 'base64'), l1Aad('t1', 'k1', l2s[i].id));
      expect(opened.equals(l2s[i].key)).toBe(true);
    }
  });

  it('does nothing when the view already shows the re-wrap (another worker was first) or the L1 version moved on', async () => {
    const { l1, keys, publish, reports, rewrapper } = await setup(1);
    publish({ l1KeyVersion: 'v2' });
    rewrapper.onView('t1');
    publish({ l1KeyVersion: 'v2', tenantKeys: keys.map((k) => ({ ...k, l1KeyVersion: 'v2' })) }); // before the queue ran
    await rewrapper.idle();
    expect(reports).toEqual([]);
    expect(l1.calls).toEqual({ wrap: 0, unwrap: 0 });
  });

  it('never re-wraps for a revoked link, and refuses a registry entry that opens to another key', async () => {
    const { store, keys, publish, reports, rewrapper } = await setup(1);
    publish({ l1KeyVersion: 'v2', status: 'revoked' });
    rewrapper.onView('t1');
    await rewrapper.idle();
    expect(reports).toEqual([]);
    publish({ l1KeyVersion: 'v2', tenantKeys: keys.map((k) => ({ ...k, l2Fingerprint: 'kcv:000000' })) });
    expect(store.get('t1')?.served?.keyLinks.get('k1')?.status).toBe('active');
    rewrapper.onView('t1');
    await rewrapper.idle();
    expect(reports).toEqual([]);
  });
});
