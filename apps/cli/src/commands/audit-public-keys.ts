import { createPublicKey, KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ed25519PublicKeyFromRaw } from '@cmk/audit/ed25519';
import { UsageError } from '../errors';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/** 64 hex digits, or a file holding PEM blocks (what `cmk audit key` prints), `cmk audit key --json`, or hex. */
export function parsePublicKeys(value: string): KeyObject[] {
  if (HEX_KEY.test(value)) return [fromRaw(Buffer.from(value, 'hex'), '--public-key')];
  if (!existsSync(value)) throw new UsageError(`--public-key ${value} is neither 64 hex digits nor a readable file`);
  const text = readFileSync(value, 'utf8');
  const keys: KeyObject[] = [];
  for (const pem of text.match(PEM_BLOCK) ?? []) {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new UsageError(`--public-key file ${value} holds a PEM block that is not a public key`);
    }
    keys.push(ed25519Only(key, value));
  }
  if (keys.length === 0 && text.trim().startsWith('{')) {
    try {
      const doc = JSON.parse(text) as { keys?: { publicKey?: string }[]; publicKey?: string };
      for (const k of doc.keys ?? [doc]) if (typeof k.publicKey === 'string') keys.push(fromRaw(Buffer.from(k.publicKey, 'base64url'), value));
    } catch {
      throw new UsageError(`--public-key file ${value} is not valid JSON`);
    }
  }
  if (keys.length === 0 && HEX_KEY.test(text.trim())) keys.push(fromRaw(Buffer.from(text.trim(), 'hex'), value));
  if (keys.length === 0) throw new UsageError(`--public-key file ${value} holds no Ed25519 public key (PEM, JSON from \`cmk audit key --json\`, or 64 hex digits)`);
  return keys;
}

function fromRaw(raw: Buffer, where: string): KeyObject {
  try {
    return ed25519PublicKeyFromRaw(raw);
  } catch {
    throw new UsageError(`${where}: not an Ed25519 public key`);
  }
}

function ed25519Only(key: KeyObject, where: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`${where}: the key is ${key.asymmetricKeyType}, not Ed25519`);
  return key;
}
