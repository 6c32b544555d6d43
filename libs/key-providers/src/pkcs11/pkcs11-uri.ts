import { InvalidKeyReferenceError } from '../key-provider.errors';

/** RFC 7512 object types the adapter can use as keys. */
export type Pkcs11ObjectType = 'secret-key' | 'private' | 'public';

/**
 * A PKCS#11 key reference, an RFC 7512 URI such as `pkcs11:token=cmk;object=tenant-l1` or
 * `pkcs11:token=cmk;id=%01%a2` (`id=01a2`, plain hex, is accepted too). At least `object` (CKA_LABEL) or `id`
 * (CKA_ID) names the key; when both are given, both must match.
 */
export interface Pkcs11KeyRef {
  /** Token label (CKA_LABEL of the token, up to 32 characters). */
  token?: string;
  /** Token serial number, checked when given. */
  serial?: string;
  object?: string;
  id?: Buffer;
  type?: Pkcs11ObjectType;
}

const PATH_ATTRIBUTES = new Set(['token', 'serial', 'object', 'id', 'type', 'manufacturer', 'model']);
const TYPES = new Set<string>(['secret-key', 'private', 'public']);

export function isPkcs11KeyRef(ref: string): boolean {
  return ref.startsWith('pkcs11:');
}

/**
 * Parses a PKCS#11 key reference. Messages never echo the reference, which could (wrongly) carry a PIN in a
 * `pin-value` query attribute; such references are refused.
 */
export function parsePkcs11KeyRef(ref: string): Pkcs11KeyRef {
  const bad = (why: string) => new InvalidKeyReferenceError(`invalid PKCS#11 key reference: ${why}`);
  if (!isPkcs11KeyRef(ref)) throw bad('it must start with "pkcs11:"');
  const [path, query] = splitOnce(ref.slice('pkcs11:'.length), '?');
  if (query !== undefined) {
    throw bad(
      /(^|&)pin-(value|source)=/.test(query)
        ? 'key references must not carry PINs (pin-value / pin-source); configure a credential reference instead'
        : 'query attributes are not accepted',
    );
  }
  const out: Pkcs11KeyRef = {};
  const seen = new Set<string>();
  for (const part of path.split(';')) {
    if (part === '') continue;
    const [name, raw] = splitOnce(part, '=');
    if (raw === undefined) throw bad(`attribute "${safeName(name)}" has no value`);
    if (!PATH_ATTRIBUTES.has(name)) throw bad(`unknown attribute "${safeName(name)}"`);
    if (seen.has(name)) throw bad(`attribute "${name}" is repeated`);
    seen.add(name);
    if (name === 'id') {
      out.id = decodeId(raw, bad);
      continue;
    }
    const value = percentDecode(raw, name, bad);
    if (name === 'token') out.token = value;
    else if (name === 'serial') out.serial = value;
    else if (name === 'object') out.object = value;
    else if (name === 'type') {
      if (!TYPES.has(value)) throw bad('type must be secret-key, private or public');
      out.type = value as Pkcs11ObjectType;
    }
    // manufacturer and model are accepted for compatibility with tools that print them, and not checked.
  }
  if (out.object === undefined && out.id === undefined) throw bad('it names no key (object= or id=)');
  if (out.token !== undefined && Buffer.byteLength(out.token) > 32) throw bad('token labels have at most 32 bytes');
  if (out.id !== undefined && out.id.length === 0) throw bad('id is empty');
  return out;
}

/** Canonical form (RFC 7512 percent-encoding, fixed attribute order); `parse(format(r))` equals `r`. */
export function formatPkcs11KeyRef(ref: Pkcs11KeyRef): string {
  const parts: string[] = [];
  if (ref.token !== undefined) parts.push(`token=${encode(ref.token)}`);
  if (ref.serial !== undefined) parts.push(`serial=${encode(ref.serial)}`);
  if (ref.object !== undefined) parts.push(`object=${encode(ref.object)}`);
  if (ref.id !== undefined) parts.push(`id=${[...ref.id].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')}`);
  if (ref.type !== undefined) parts.push(`type=${ref.type}`);
  return `pkcs11:${parts.join(';')}`;
}

function decodeId(raw: string, bad: (why: string) => Error): Buffer {
  if (raw.includes('%')) {
    if (!/^(%[0-9a-fA-F]{2}|[A-Za-z0-9\-._~])*$/.test(raw)) throw bad('id is not valid percent-encoding');
    return Buffer.from(raw.replace(/%([0-9a-fA-F]{2})|([^%])/g, (_m, hex: string, ch: string) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : ch,
    ), 'latin1');
  }
  if (!/^([0-9a-fA-F]{2})+$/.test(raw)) throw bad('id must be hex (id=01a2) or percent-encoded (id=%01%a2)');
  return Buffer.from(raw, 'hex');
}

function percentDecode(raw: string, name: string, bad: (why: string) => Error): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw bad(`${name} is not valid percent-encoding`);
  }
}

function encode(value: string): string {
  return encodeURIComponent(value);
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function safeName(name: string): string {
  return /^[a-z-]{1,32}$/.test(name) ? name : '?';
}
