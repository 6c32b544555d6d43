import { randomBytes } from 'node:crypto';
import { L2Key, L2KeyCache } from './l2-key-cache';

const key = (tenantId: string, keyLinkId: string): L2Key => ({ tenantId, keyLinkId, l2Id: randomBytes(16), key: randomBytes(32), zeroised: false });
const isZero = (b: Buffer) => b.every((x) => x === 0);

describe('L2KeyCache', () => {
  it('finds a key by id only for its own tenant and link', () => {
    const cache = new L2KeyCache(10);
    const a = key('t1', 'k1');
    cache.add(a);
    expect(cache.get('t1', 'k1', a.l2Id)).toBe(a);
    expect(cache.get('t2', 'k1', a.l2Id)).toBeUndefined();
    expect(cache.get('t1', 'k2', a.l2Id)).toBeUndefined();
    expect(cache.add({ ...a, key: randomBytes(32) })).toBe(a); // the key already held wins
  });

  it('zeroises a link\'s keys, or all of a tenant\'s, and drops them', () => {
    const cache = new L2KeyCache(10);
    const [a, b, c] = [key('t1', 'k1'), key('t1', 'k2'), key('t2', 'k1')];
    [a, b, c].forEach((k) => cache.add(k));
    expect(cache.zeroise('t1', 'k1')).toBe(1);
    expect(isZero(a.key) && a.zeroised).toBe(true);
    expect(cache.get('t1', 'k1', a.l2Id)).toBeUndefined();
    expect(cache.get('t1', 'k2', b.l2Id)).toBe(b);
    expect(cache.zeroise('t1')).toBe(1);
    expect(isZero(b.key)).toBe(true);
    expect(isZero(c.key)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('drops keys of links that may no longer be used', () => {
    const cache = new L2KeyCache(10);
    const [a, b] = [key('t1', 'k1'), key('t1', 'k2')];
    cache.add(a);
    cache.add(b);
    expect(cache.retain('t1', (link) => link === 'k2')).toBe(1);
    expect(a.zeroised).toBe(true);
    expect(cache.get('t1', 'k2', b.l2Id)).toBe(b);
  });

  it('is bounded: the least recently used key is zeroised first', () => {
    const cache = new L2KeyCache(2);
    const [a, b, c] = [key('t', 'a'), key('t', 'b'), key('t', 'c')];
    cache.add(a);
    cache.add(b);
    cache.get('t', 'a', a.l2Id);
    cache.add(c);
    expect(b.zeroised).toBe(true);
    expect(a.zeroised || c.zeroised).toBe(false);
    expect(cache.zeroiseAll()).toBe(2);
    expect(isZero(a.key) && isZero(c.key)).toBe(true);
  });
});
