import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Checkpoint, checkpointPayload, SignedCheckpoint } from './checkpoint';
import { ed25519KeyId, ed25519Sign, generateEd25519Signer, rawEd25519PublicKey } from './ed25519';

/**
 * Who signs checkpoints: an Ed25519 key in an HSM (through PKCS#11) or in a key file (the embedded default).
 * `publicKey` is what auditors trust; `keyId` is derived from it (see ed25519KeyId) whatever holds the key.
 */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /** Where the key lives, for operators: `file:/…`, `pkcs11:token=…;object=…`, `memory`. */
  readonly location: string;
  /** base64url Ed25519 signature over the bytes. */
  sign(payload: Uint8Array): Promise<string>;
  close(): Promise<void>;
}

export async function signCheckpointWith(signer: CheckpointSigner, checkpoint: Omit<Checkpoint, 'keyId'>): Promise<SignedCheckpoint> {
  const unsigned: Checkpoint = { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, time: checkpoint.time, keyId: signer.keyId };
  return { ...unsigned, signature: await signer.sign(checkpointPayload(unsigned)) };
}

/** The public key as auditors fetch it (GET /.well-known/cmk-audit-keys, `cmk audit key`). */
export function publicKeyDocument(signer: Pick<CheckpointSigner, 'keyId' | 'publicKey'>) {
  return {
    keyId: signer.keyId,
    alg: 'Ed25519' as const,
    publicKey: rawEd25519PublicKey(signer.publicKey).toString('base64url'),
    spkiPem: signer.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function softwareSigner(privateKey: KeyObject, location: string): CheckpointSigner {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: ed25519KeyId(publicKey),
    publicKey,
    location,
    sign: async (payload) => ed25519Sign(privateKey, payload),
    close: async () => undefined,
  };
}

/** A key that lives as long as the process (memory:// data directories, tests). */
export function memoryCheckpointSigner(): CheckpointSigner {
  return softwareSigner(generateEd25519Signer().privateKey, 'memory');
}

/**
 * The embedded default: an Ed25519 private key in a PKCS#8 PEM file, created on first use with mode 0600 in a
 * 0700 directory. A file others can read is refused rather than used: a signing key anyone can read proves nothing.
 */
export function keyFileCheckpointSigner(path: string): CheckpointSigner {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const pem = generateEd25519Signer().privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new Error(`the audit signing key ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the audit signing key ${path} is not an Ed25519 key`);
  chmodSync(path, 0o600);
  return softwareSigner(privateKey, `file:${path}`);
}
