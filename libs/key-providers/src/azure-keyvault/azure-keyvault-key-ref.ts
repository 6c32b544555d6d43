import { InvalidKeyReferenceError } from '../key-provider.errors';

/** A parsed `https://<vault-host>/keys/<name>[/<version>]` reference (the key identifier Key Vault prints). */
export interface AzureKeyRef {
  /** `https://<host>[:port]`, lower-case host, no trailing slash: the vault the key lives in. */
  vaultUrl: string;
  name: string;
  /** Set when the reference pins one version; wrap then uses that version, not the current one. */
  version?: string;
  /** Canonical form, used as the cache key. */
  canonical: string;
}

/** Key Vault's own rules for key names and version ids. */
const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-zA-Z]{1,64}$/;

/**
 * Parses a key reference without contacting anyone. Anything but an https URL of exactly that shape is refused:
 * a query, a fragment or user info could redirect a bearer token or smuggle a credential into a stored reference.
 * The refused value is not echoed (not even in `details.keyRef`): it may hold such a credential.
 */
export function parseAzureKeyRef(ref: string): AzureKeyRef {
  const invalid = (why: string) => new InvalidKeyReferenceError(`not an Azure Key Vault key reference (${why}); expected https://<vault-host>/keys/<name>[/<version>]`);
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 512) throw invalid('empty or too long');
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'https:') throw invalid('the scheme must be https');
  if (url.username || url.password || url.search || url.hash || ref.includes('?') || ref.includes('#')) {
    throw invalid('user info, query and fragment are not allowed');
  }
  const segments = url.pathname.replace(/\/$/, '').split('/').slice(1);
  if (segments[0] !== 'keys' || segments.length < 2 || segments.length > 3) throw invalid('the path must be /keys/<name>[/<version>]');
  const [, name, version] = segments;
  if (!NAME.test(name)) throw invalid('the key name must be 1-127 characters of 0-9, a-z, A-Z and -');
  if (version !== undefined && !VERSION.test(version)) throw invalid('the key version must be 1-64 letters and digits');
  const vaultUrl = url.origin.toLowerCase();
  return { vaultUrl, name, version, canonical: `${vaultUrl}/keys/${name}${version ? `/${version}` : ''}` };
}

/** The vault part of a configured vault URL, normalised like {@link parseAzureKeyRef} does. */
export function normaliseVaultUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) return undefined;
    if (url.pathname !== '/' && url.pathname !== '') return undefined;
    return url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
