import type { RecordedEvent } from '@cmk/event-store';
import { revocationReceipt } from './revocation-receipt';

const T0 = Date.parse('2026-11-29T10:00:00.000Z');
let position = 0n;
function event(type: string, data: Record<string, unknown>, atMs = T0): RecordedEvent {
  position += 10n;
  return { id: `${position}`, streamName: 's', revision: 0, position, type, data, metadata: {}, recordedAt: new Date(atMs) };
}
const link = { keyLinkId: 'k1', tenantId: 't1' };
const iso = (ms: number) => new Date(ms).toISOString();

describe('revocationReceipt', () => {
  it('is null for a link that was never revoked, or restored since', () => {
    expect(revocationReceipt([event('KeyLinked', link), event('KeyLinkActivated', link)], [])).toBeNull();
    expect(revocationReceipt([event('KeyLinkRevoked', { ...link, reason: 'x' }), event('KeyLinkRestored', { ...link, reason: 'y' })], [])).toBeNull();
  });

  it('is pending until the bridge dispatched it and every expected region confirmed', () => {
    const revoked = event('KeyLinkRevoked', { ...link, reason: 'compromised' });
    const p = revoked.position.toString();
    expect(revocationReceipt([revoked], [])).toMatchObject({ dispatched: false, confirmed: false, expectedRegions: [], allEnforcedAfterMs: null });

    const dispatched = event('RevocationDispatched', { ...link, cause: 'KeyLinkRevoked', revocationPosition: p, regions: ['us-east-1', 'eu-central-1'] });
    const euAck = event('RevocationEnforced', { ...link, cause: 'KeyLinkRevoked', revocationPosition: p, workerId: 'w-eu', region: 'eu-central-1', enforcedAt: iso(T0 + 7) });
    const partial = revocationReceipt([revoked], [dispatched, euAck])!;
    expect(partial).toMatchObject({ dispatched: true, confirmed: false, expectedRegions: ['eu-central-1', 'us-east-1'], pendingRegions: ['us-east-1'] });
    expect(partial.regions).toEqual([
      { region: 'eu-central-1', firstEnforcedAt: iso(T0 + 7), afterMs: 7, workers: [{ workerId: 'w-eu', enforcedAt: iso(T0 + 7), afterMs: 7 }] },
      { region: 'us-east-1', firstEnforcedAt: null, afterMs: null, workers: [] },
    ]);

    const usAck = event('RevocationEnforced', { ...link, cause: 'KeyLinkRevoked', revocationPosition: p, workerId: 'w-us', region: 'us-east-1', enforcedAt: iso(T0 + 12) });
    const duplicateAck = { ...usAck, id: 'again' };
    const done = revocationReceipt([revoked], [dispatched, euAck, usAck, duplicateAck])!;
    expect(done).toMatchObject({ confirmed: true, pendingRegions: [], allEnforcedAt: iso(T0 + 12), allEnforcedAfterMs: 12, revokedAt: iso(T0), reason: 'compromised' });
    expect(done.regions[1].workers).toHaveLength(1);
  });

  it('reports only the latest revocation, ignoring acks of an earlier one', () => {
    const first = event('KeyLinkRevoked', { ...link, reason: 'first' });
    const oldAck = event('RevocationEnforced', { ...link, revocationPosition: first.position.toString(), workerId: 'w', region: 'eu-central-1', enforcedAt: iso(T0 + 1) });
    const restored = event('KeyLinkRestored', { ...link, reason: 'ok' });
    const second = event('KeyLinkRevoked', { ...link, reason: 'second' }, T0 + 1000);
    const receipt = revocationReceipt([first, restored, second], [oldAck])!;
    expect(receipt).toMatchObject({ reason: 'second', revocationPosition: second.position.toString(), regions: [] });
  });
});
