import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * EME-OAEP encoding with SHA-256 and MGF1-SHA-256 (RFC 8017, 7.1.1 and 7.1.2), for tokens whose CKM_RSA_PKCS_OAEP
 * supports SHA-1 only: SoftHSM2 2.6 refuses any other hash with CKR_ARGUMENTS_BAD. The adapter then runs the
 * RSA primitive in the token (CKM_RSA_X_509, still subject to the key's CKA_ENCRYPT / CKA_DECRYPT) and the
 * padding here, producing exactly the RSAES-OAEP-SHA-256 ciphertexts a native mechanism (or any OAEP library)
 * produces and accepts. The OAEP label carries the caller's aad.
 *
 * Decoding checks every condition and reports one undifferentiated failure, without early exits on secret
 * data (Manger's attack needs to tell "first byte not zero" from the other failures).
 */
const H = 32;

export function oaepMaxMessageBytes(modulusBytes: number): number {
  return modulusBytes - 2 * H - 2;
}

export function oaepEncodeSha256(message: Buffer, modulusBytes: number, label: Buffer = Buffer.alloc(0)): Buffer {
  const k = modulusBytes;
  if (message.length > oaepMaxMessageBytes(k)) throw new RangeError('message too long for OAEP-SHA-256 with this key');
  const db = Buffer.alloc(k - H - 1);
  sha256(label).copy(db, 0);
  db[db.length - message.length - 1] = 0x01;
  message.copy(db, db.length - message.length);
  const seed = randomBytes(H);
  xorInPlace(db, mgf1(seed, db.length));
  xorInPlace(seed, mgf1(db, H));
  const em = Buffer.concat([Buffer.from([0]), seed, db]);
  db.fill(0);
  return em;
}

/** Returns the message, or undefined when `em` is not a valid encoding for this label. */
export function oaepDecodeSha256(em: Buffer, modulusBytes: number, label: Buffer = Buffer.alloc(0)): Buffer | undefined {
  const k = modulusBytes;
  if (em.length !== k || k < 2 * H + 2) return undefined;
  const seed = Buffer.from(em.subarray(1, 1 + H));
  const db = Buffer.from(em.subarray(1 + H));
  xorInPlace(seed, mgf1(db, H));
  xorInPlace(db, mgf1(seed, db.length));
  let bad = em[0] === 0 ? 0 : 1;
  bad |= timingSafeEqual(db.subarray(0, H), sha256(label)) ? 0 : 1;
  // After lHash: zero or more 0x00, then 0x01, then the message. Scan every byte whatever we find.
  let found = 0;
  let index = 0;
  for (let i = H; i < db.length; i++) {
    const b = db[i];
    const isOne = ((b ^ 1) - 1) >>> 31;
    const isZero = (b - 1) >>> 31;
    const before = found ^ 1;
    index |= i * (isOne & before);
    bad |= before & (isOne ^ 1) & (isZero ^ 1);
    found |= isOne;
  }
  bad |= found ^ 1;
  const message = bad === 0 ? Buffer.from(db.subarray(index + 1)) : undefined;
  db.fill(0);
  seed.fill(0);
  return message;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function mgf1(seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(Math.ceil(length / H) * H);
  const counter = Buffer.alloc(4);
  for (let i = 0; i * H < length; i++) {
    counter.writeUInt32BE(i, 0);
    createHash('sha256').update(seed).update(counter).digest().copy(out, i * H);
  }
  return out.subarray(0, length);
}

function xorInPlace(target: Buffer, mask: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] ^= mask[i];
}
