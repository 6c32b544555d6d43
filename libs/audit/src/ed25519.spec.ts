import { checkpointPayload, CHECKPOINT_CONTEXT } from './checkpoint';
import {
  ed25519KeyId,
  ed25519PublicKeyFromRaw,
  ed25519Sign,
  ed25519SignatureVerifier,
  ed25519SignerFromSeed,
  ed25519Verify,
  generateEd25519Signer,
  rawEd25519PublicKey,
  signCheckpoint,
} from './ed25519';

describe('Ed25519 checkpoint signatures', () => {
  it('RFC 8032 section 7.1 TEST 1: the known key pair and signature over the empty message', () => {
    const signer = ed25519SignerFromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'));
    expect(rawEd25519PublicKey(signer.publicKey).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const signature = ed25519Sign(signer.privateKey, Buffer.alloc(0));
    expect(Buffer.from(signature, 'base64url').toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(ed25519Verify(signer.publicKey, Buffer.alloc(0), signature)).toBe(true);
  });

  it('round-trips public keys as raw bytes and derives stable key ids from them', () => {
    const signer = generateEd25519Signer();
    const again = ed25519PublicKeyFromRaw(rawEd25519PublicKey(signer.publicKey));
    expect(ed25519KeyId(again)).toBe(signer.keyId);
    expect(signer.keyId).toMatch(/^ed25519:[0-9a-f]{32}$/);
  });

  it('the checkpoint payload is JCS of the signed fields with a domain-separation context', () => {
    const payload = checkpointPayload({ treeSize: 3, rootHash: 'ab'.repeat(32), time: '2025-01-01T00:00:00.000Z', keyId: 'ed25519:x' });
    expect(payload.toString('utf8')).toBe(
      `{"context":"${CHECKPOINT_CONTEXT}","keyId":"ed25519:x","rootHash":"${'ab'.repeat(32)}","time":"2025-01-01T00:00:00.000Z","treeSize":3}`,
    );
  });

  it('verifies a signed checkpoint and rejects any change, a foreign key and a malformed signature', () => {
    const signer = generateEd25519Signer();
    const other = generateEd25519Signer();
    const verifySignature = ed25519SignatureVerifier([signer.publicKey]);
    const checkpoint = signCheckpoint({ treeSize: 10, rootHash: 'cd'.repeat(32), time: '2025-01-01T00:00:00.000Z' }, signer);
    const ok = (c: typeof checkpoint) => verifySignature(checkpointPayload(c), c.signature, c.keyId);

    expect(checkpoint.keyId).toBe(signer.keyId);
    expect(ok(checkpoint)).toBe(true);
    expect(ok({ ...checkpoint, treeSize: 11 })).toBe(false);
    expect(ok({ ...checkpoint, rootHash: 'ce'.repeat(32) })).toBe(false);
    expect(ok({ ...checkpoint, time: '2025-01-01T00:00:00.001Z' })).toBe(false);
    expect(ok(signCheckpoint(checkpoint, other))).toBe(false); // unknown key id
    expect(ok({ ...signCheckpoint(checkpoint, other), keyId: signer.keyId })).toBe(false); // re-attributed
    expect(ok({ ...checkpoint, signature: checkpoint.signature.slice(0, -2) })).toBe(false);
    expect(ok({ ...checkpoint, signature: `${checkpoint.signature}!` })).toBe(false);
  });
});
