/**
 * The L2 key registry of a key link as the views carry it (pure). Shared by the bridge's fold, which builds it
 * from TenantKeyGenerated / TenantKeyRewrapped events, and by the workers, which read it.
 *
 * Concurrent generation: several workers may each make an L2 key for the same (link, version) before any is
 * registered. The first one recorded wins and the others are never used: a worker seals data keys only under
 * the L2 key its view shows registered for the version, so every blob names a key that any worker can unwrap.
 * (One key per version also keeps "the current version seals, older versions only open" a rule about versions.)
 */
import type { KeyLinkView, TenantKeyView } from './orbital.messages';

/** The L2 version new data keys are sealed under. */
export function sealVersionOf(link: Pick<KeyLinkView, 'tenantKeyVersion'>): number {
  return link.tenantKeyVersion ?? 1;
}

export function tenantKeyOfVersion(link: Pick<KeyLinkView, 'tenantKeys'>, version: number): TenantKeyView | undefined {
  return link.tenantKeys?.find((k) => k.l2Version === version);
}

export function tenantKeyById(link: Pick<KeyLinkView, 'tenantKeys'>, l2Id: string): TenantKeyView | undefined {
  return link.tenantKeys?.find((k) => k.l2Id === l2Id);
}

/**
 * The registry with `key` added, or the same array when its version (or its id) is registered already: the
 * first registration wins. Never changes the array it is given (views before and after are compared).
 */
export function registerTenantKey(keys: readonly TenantKeyView[] | undefined, key: TenantKeyView): readonly TenantKeyView[] | undefined {
  if (keys?.some((k) => k.l2Version === key.l2Version || k.l2Id === key.l2Id)) return keys;
  return [...(keys ?? []), key];
}

/**
 * The registry with the L2 key `l2Id` wrapped under `l1KeyVersion`, if that is the link's current L1 version
 * and the key is not wrapped under it already (the first re-wrap wins; a late one for a superseded L1 version
 * is ignored, so it cannot put back an older wrap). Otherwise the same array.
 */
export function rewrapTenantKey(
  keys: readonly TenantKeyView[] | undefined,
  currentL1KeyVersion: string | undefined,
  rewrap: { l2Id: string; wrappedL2: string; l1KeyVersion: string },
): readonly TenantKeyView[] | undefined {
  if (!keys || rewrap.l1KeyVersion !== currentL1KeyVersion) return keys;
  const at = keys.findIndex((k) => k.l2Id === rewrap.l2Id);
  if (at < 0 || keys[at].l1KeyVersion === rewrap.l1KeyVersion) return keys;
  const next = [...keys];
  next[at] = { ...keys[at], wrappedL2: rewrap.wrappedL2, l1KeyVersion: rewrap.l1KeyVersion };
  return next;
}

/** Registered keys not wrapped under the link's current L1 version: what an L1 rotation leaves to re-wrap. */
export function staleTenantKeys(link: Pick<KeyLinkView, 'tenantKeys' | 'l1KeyVersion'>): TenantKeyView[] {
  const current = link.l1KeyVersion;
  if (current === undefined) return [];
  return (link.tenantKeys ?? []).filter((k) => k.l1KeyVersion !== current);
}
