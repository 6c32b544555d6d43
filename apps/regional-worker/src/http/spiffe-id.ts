/**
 * Workload identities in client certificates, as SPIFFE X.509-SVIDs: exactly one URI SAN,
 * `spiffe://<trust domain>/tenant/<tenantId>/system/<systemId>`. Only the trust domain the worker is configured
 * for counts; the certificate chain itself is verified by TLS before anything here runs.
 */

/** SPIFFE ID spec §2.1: lower-case letters, digits, dots, dashes and underscores. */
export const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** SPIFFE path segment characters (§2.2), narrowed to what tenant and system ids use; never `.` or `..`. */
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

export type SpiffeWorkload = { ok: true; spiffeId: string; tenantId: string; systemId: string } | { ok: false; problem: string };

/**
 * The URI entries of a certificate's subjectAltName as node renders it (`URI:a, DNS:b`; values with a comma or
 * quote are JSON-quoted since node 17.3, so a naive split on ", " would let one SAN pose as two).
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const uris: string[] = [];
  for (const m of subjectAltName.matchAll(/(?:^|, )([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    if (m[1] !== 'URI') continue;
    try {
      uris.push(m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2]);
    } catch {
      uris.push(m[2]);
    }
  }
  return uris;
}

export function workloadFromSans(subjectAltName: string | undefined, trustDomain: string): SpiffeWorkload {
  const uris = uriSans(subjectAltName);
  if (uris.length === 0) return { ok: false, problem: 'the client certificate has no URI subject alternative name (a SPIFFE ID)' };
  // X.509-SVID §4.1: one URI SAN only, so there is never a choice of identity to make.
  if (uris.length > 1) return { ok: false, problem: 'the client certificate has more than one URI subject alternative name' };
  return parseWorkloadSpiffeId(uris[0], trustDomain);
}

export function parseWorkloadSpiffeId(uri: string, trustDomain: string): SpiffeWorkload {
  const prefix = `spiffe://${trustDomain}/`;
  if (!uri.startsWith('spiffe://')) return { ok: false, problem: 'the client certificate\'s URI SAN is not a SPIFFE ID' };
  if (!uri.startsWith(prefix)) return { ok: false, problem: `the client certificate's SPIFFE ID is not in the trust domain ${trustDomain}` };
  const parts = uri.slice(prefix.length).split('/');
  if (parts.length !== 4 || parts[0] !== 'tenant' || parts[2] !== 'system' || !SEGMENT.test(parts[1]) || !SEGMENT.test(parts[3])) {
    return { ok: false, problem: `the client certificate's SPIFFE ID must be spiffe://${trustDomain}/tenant/<tenantId>/system/<systemId>` };
  }
  return { ok: true, spiffeId: uri, tenantId: parts[1], systemId: parts[3] };
}
