import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import { Checkpoint, checkpointPayload, SignedCheckpoint, VerifySignature } from './checkpoint';

/**
 * Ed25519 (RFC 8032) checkpoint signatures with node:crypto. Key ids are derived from the public key
 * (`ed25519:` + the first 16 bytes of SHA-256 over the raw 32-byte key, hex), so a verifier holding only public
 * keys can name them without a registry.
 */
export interface Ed25519Signer {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** DER of PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410) up to the 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function generateEd25519Signer(): Ed25519Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId: ed25519KeyId(publicKey), privateKey, publicKey };
}

/** A signer from a raw 32-byte RFC 8032 secret key (seed). */
export function ed25519SignerFromSeed(seed: Uint8Array): Ed25519Signer {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed has 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { keyId: ed25519KeyId(publicKey), privateKey, publicKey };
}

export function rawEd25519PublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

export function ed25519PublicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`an Ed25519 public key has 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function ed25519KeyId(publicKey: KeyObject): string {
  return 'ed25519:' + createHash('sha256').update(rawEd25519PublicKey(publicKey)).digest('hex').slice(0, 32);
}

/** base64url Ed25519 signature over `payload`. */
export function ed25519Sign(privateKey: KeyObject, payload: Uint8Array): string {
  return sign(null, payload, privateKey).toString('base64url');
}

export function ed25519Verify(publicKey: KeyObject, payload: Uint8Array, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64url');
  // Buffer.from drops characters outside the alphabet; refuse anything that does not round-trip.
  if (bytes.length !== 64 || bytes.toString('base64url') !== signature) return false;
  return verify(null, payload, publicKey, bytes);
}

export function signCheckpoint(checkpoint: Omit<Checkpoint, 'keyId'>, signer: Ed25519Signer): SignedCheckpoint {
  const unsigned: Checkpoint = { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, time: checkpoint.time, keyId: signer.keyId };
  return { ...unsigned, signature: ed25519Sign(signer.privateKey, checkpointPayload(unsigned)) };
}

/** A {@link VerifySignature} over a set of trusted public keys; unknown key ids never verify. */
export function ed25519SignatureVerifier(trusted: Iterable<KeyObject>): VerifySignature {
  const byId = new Map<string, KeyObject>();
  for (const key of trusted) byId.set(ed25519KeyId(key), key);
  return (payload, signature, keyId) => {
    const key = byId.get(keyId);
    return key !== undefined && ed25519Verify(key, payload, signature);
  };
}
