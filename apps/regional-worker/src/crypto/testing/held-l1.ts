import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidCiphertextError, KeyProvider } from '@cmk/key-providers';

/**
 * An in-memory L1 for unit specs (AES-256-GCM in node:crypto) whose calls a test can hold open and count.
 * A test double, not a provider: SoftHSM2-backed behaviour is covered in test/worker.
 */
export class HeldL1 implements Pick<KeyProvider, 'kind' | 'wrap' | 'unwrap'> {
  readonly kind = 'pkcs11';
  readonly key = randomBytes(32);
  calls = { wrap: 0, unwrap: 0 };
  hold: Promise<void> | null = null;

  async wrap(_ref: string, plaintext: Buffer, aad?: Buffer) {
    this.calls.wrap++;
    await this.hold;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv).setAAD(aad ?? Buffer.alloc(0));
    return { ciphertext: Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]), algorithm: 'AES_256_GCM' };
  }

  async unwrap(_ref: string, ciphertext: Buffer, aad?: Buffer) {
    this.calls.unwrap++;
    await this.hold;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, ciphertext.subarray(0, 12)).setAAD(aad ?? Buffer.alloc(0));
      d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      return Buffer.concat([d.update(ciphertext.subarray(12, ciphertext.length - 16)), d.final()]);
    } catch {
      throw new InvalidCiphertextError('does not open');
    }
  }

  asProvider(): KeyProvider {
    return this as unknown as KeyProvider;
  }
}
