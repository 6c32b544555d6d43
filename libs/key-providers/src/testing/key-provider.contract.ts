import { randomBytes } from 'node:crypto';
import { aesKeyCheckValue, wrapKeyMaterialForImport } from '../byok/byok-wrap';
import {
  ImportRefusedError,
  InvalidCiphertextError,
  InvalidKeyReferenceError,
  KeyNotFoundError,
  KeyProviderError,
  KeyDisabledError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import type { ImportWrappingAlgorithm, ImportWrappingKeySpec, KeyAlgorithm, KeyProvider, KeyRef } from '../key-provider.port';

/** A key the contract may use: it must exist, be enabled, and both wrap and unwrap. */
export interface ContractKey {
  /** Shown in failure messages, e.g. `AES-256` or `RSA-3072`. */
  name: string;
  ref: KeyRef;
  algorithm: KeyAlgorithm;
  sizeBits: number;
  /** Largest plaintext the key wraps (RSA-OAEP bounds it). Default 1024. */
  maxPlaintextBytes?: number;
}

export interface KeyProviderContractFixture {
  /** A provider ready for use; the contract closes it. */
  provider: KeyProvider;
  /** At least one key; two or more also check that one key's ciphertext does not open under another. */
  keys: ContractKey[];
  /** A well-formed reference that names no key. */
  missingKeyRef: KeyRef;
  /**
   * BYOK. Omitted when the adapter cannot import: the contract then expects UnsupportedOperationError from
   * getImportParameters.
   */
  byok?: {
    /** A fresh target for AES-256 material on each call: a key awaiting import, or a name not used yet. */
    newImportTarget(): Promise<KeyRef>;
    wrappingAlgorithms: ImportWrappingAlgorithm[];
  };
  /**
   * A fresh, enabled AES-256 key on each call, for the tests that change a key (disable, rotate). Required when
   * `admin` is given or `rotates` is true.
   */
  scratchKey?(): Promise<KeyRef>;
  /** Test-side administration AT the provider (what a customer does in their own console), for health checks. */
  admin?: {
    disable(ref: KeyRef): Promise<void>;
    enable(ref: KeyRef): Promise<void>;
  };
  /** True when rotateKey creates a new version; false means it must reject with UnsupportedOperationError. */
  rotates: boolean;
  /** Runs after the provider is closed. */
  dispose?(): Promise<void> | void;
}

const FINGERPRINT = /^(kcv:[0-9a-f]{6}|sha256:[0-9a-f]{64}|keyversion:sha256:[0-9a-f]{64})$/;

async function refusal(promise: Promise<unknown>): Promise<ImportRefusedError> {
  const error = await promise.then(
    () => new Error('expected the import to be refused, but it succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImportRefusedError);
  return error as ImportRefusedError;
}
const PARALLEL = 200;

/**
 * The one contract every KeyProvider adapter passes unchanged (PKCS#11 now; AWS KMS, Google Cloud KMS and Azure
 * Key Vault next). `factory` is called twice: once for the main suite and once for a provider the contract
 * closes. Name what the adapter runs against in `name` (a real token, an emulator, a double).
 */
export function describeKeyProviderContract(name: string, factory: () => Promise<KeyProviderContractFixture>): void {
  describe(`KeyProvider contract: ${name}`, () => {
    let fx: KeyProviderContractFixture;
    const forEachKey = async (check: (key: ContractKey) => Promise<void>) => {
      for (const key of fx.keys) {
        try {
          await check(key);
        } catch (e) {
          if (e instanceof Error) e.message = `[${key.name}] ${e.message}`;
          throw e;
        }
      }
    };

    beforeAll(async () => {
      fx = await factory();
      if (fx.keys.length === 0) throw new Error('the contract needs at least one key');
    });

    afterAll(async () => {
      await fx?.provider.close();
      await fx?.dispose?.();
    });

    it('wraps and unwraps back to the same bytes, with and without aad, from 1 byte to the largest size', async () => {
      await forEachKey(async (key) => {
        for (const size of [1, 32, Math.min(key.maxPlaintextBytes ?? 1024, 1024)]) {
          for (const aad of [undefined, randomBytes(24)]) {
            const plaintext = randomBytes(size);
            const { ciphertext, algorithm } = await fx.provider.wrap(key.ref, plaintext, aad);
            expect(typeof algorithm).toBe('string');
            expect(algorithm.length).toBeGreaterThan(0);
            if (size >= 16) expect(ciphertext.includes(plaintext)).toBe(false);
            expect(await fx.provider.unwrap(key.ref, ciphertext, aad)).toEqual(plaintext);
          }
        }
      });
    });

    it('randomises: the same plaintext wraps to different ciphertexts under one stable algorithm name', async () => {
      await forEachKey(async (key) => {
        const plaintext = randomBytes(32);
        const a = await fx.provider.wrap(key.ref, plaintext);
        const b = await fx.provider.wrap(key.ref, plaintext);
        expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
        expect(a.algorithm).toBe(b.algorithm);
      });
    });

    it('refuses a different aad, or a missing one, with InvalidCiphertextError', async () => {
      await forEachKey(async (key) => {
        const { ciphertext } = await fx.provider.wrap(key.ref, randomBytes(32), Buffer.from('tenant-a'));
        await expect(fx.provider.unwrap(key.ref, ciphertext, Buffer.from('tenant-b'))).rejects.toBeInstanceOf(InvalidCiphertextError);
        await expect(fx.provider.unwrap(key.ref, ciphertext)).rejects.toBeInstanceOf(InvalidCiphertextError);
        const plain = await fx.provider.wrap(key.ref, randomBytes(32));
        await expect(fx.provider.unwrap(key.ref, plain.ciphertext, Buffer.from('tenant-a'))).rejects.toBeInstanceOf(InvalidCiphertextError);
      });
    });

    it('refuses a tampered, truncated, extended or empty ciphertext with InvalidCiphertextError', async () => {
      await forEachKey(async (key) => {
        const aad = Buffer.from('ctx');
        const { ciphertext } = await fx.provider.wrap(key.ref, randomBytes(32), aad);
        const variants: Buffer[] = [];
        for (const at of [0, Math.floor(ciphertext.length / 2), ciphertext.length - 1]) {
          const flipped = Buffer.from(ciphertext);
          flipped[at] ^= 0x01;
          variants.push(flipped);
        }
        variants.push(ciphertext.subarray(0, ciphertext.length - 1), Buffer.concat([ciphertext, Buffer.from([0])]), Buffer.alloc(0));
        for (const bad of variants) {
          await expect(fx.provider.unwrap(key.ref, bad, aad)).rejects.toBeInstanceOf(InvalidCiphertextError);
        }
        expect((await fx.provider.unwrap(key.ref, ciphertext, aad)).length).toBe(32);
      });
    });

    it("refuses one key's ciphertext under another key with InvalidCiphertextError", async () => {
      if (fx.keys.length < 2) return;
      for (const [i, key] of fx.keys.entries()) {
        const other = fx.keys[(i + 1) % fx.keys.length];
        const { ciphertext } = await fx.provider.wrap(key.ref, randomBytes(32));
        await expect(fx.provider.unwrap(other.ref, ciphertext)).rejects.toBeInstanceOf(InvalidCiphertextError);
      }
    });

    it('reports an unknown key with KeyNotFoundError from every key operation', async () => {
      const ref = fx.missingKeyRef;
      await expect(fx.provider.describeKey(ref)).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(fx.provider.wrap(ref, randomBytes(32))).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(fx.provider.unwrap(ref, randomBytes(60))).rejects.toBeInstanceOf(KeyNotFoundError);
      await expect(fx.provider.proofOfPossession(ref)).rejects.toBeInstanceOf(KeyNotFoundError);
    });

    it('refuses a malformed key reference with InvalidKeyReferenceError', async () => {
      await expect(fx.provider.describeKey('')).rejects.toBeInstanceOf(InvalidKeyReferenceError);
      await expect(fx.provider.wrap('', randomBytes(32))).rejects.toBeInstanceOf(InvalidKeyReferenceError);
    });

    it('describes each key: algorithm, size, enabled, and a stable fingerprint distinct per key', async () => {
      const fingerprints = new Set<string>();
      await forEachKey(async (key) => {
        const first = await fx.provider.describeKey(key.ref);
        expect(first).toMatchObject({ ref: key.ref, algorithm: key.algorithm, sizeBits: key.sizeBits, state: 'enabled' });
        expect(first.fingerprint).toMatch(FINGERPRINT);
        if (first.location !== undefined) expect(typeof first.location).toBe('string');
        if (first.version !== undefined) expect(typeof first.version).toBe('string');
        const again = await fx.provider.describeKey(key.ref);
        expect(again.fingerprint).toBe(first.fingerprint);
        fingerprints.add(first.fingerprint);
      });
      expect(fingerprints.size).toBe(fx.keys.length);
    });

    it('proves possession of each key with a wrap/unwrap round trip and reports its latency', async () => {
      await forEachKey(async (key) => {
        const proof = await fx.provider.proofOfPossession(key.ref);
        expect(proof.ok).toBe(true);
        expect(proof.latencyMs).toBeGreaterThanOrEqual(0);
      });
    });

    it(`serves ${PARALLEL} wraps in parallel, then ${PARALLEL} unwraps in parallel, each back to its own plaintext`, async () => {
      await forEachKey(async (key) => {
        const plaintexts = Array.from({ length: PARALLEL }, () => randomBytes(32));
        const aads = plaintexts.map((_p, i) => Buffer.from(`item-${i}`));
        const wrapped = await Promise.all(plaintexts.map((p, i) => fx.provider.wrap(key.ref, p, aads[i])));
        const unwrapped = await Promise.all(wrapped.map((w, i) => fx.provider.unwrap(key.ref, w.ciphertext, aads[i])));
        unwrapped.forEach((u, i) => expect(u.equals(plaintexts[i])).toBe(true));
      });
    });

    describe('BYOK import', () => {
      const cases = (): Array<[ImportWrappingAlgorithm, ImportWrappingKeySpec]> =>
        (fx.byok?.wrappingAlgorithms ?? []).flatMap((algorithm) => [
          [algorithm, 'RSA_3072'],
          [algorithm, 'RSA_4096'],
        ]);

      it('imports AES-256 material wrapped offline under each wrapping algorithm and key size, then wraps with it', async () => {
        if (!fx.byok) {
          const params = fx.provider.getImportParameters(fx.keys[0].ref, { wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072' });
          await expect(params).rejects.toBeInstanceOf(UnsupportedOperationError);
          return;
        }
        for (const [wrappingAlgorithm, wrappingKeySpec] of cases()) {
          const target = await fx.byok.newImportTarget();
          const params = await fx.provider.getImportParameters(target, { wrappingAlgorithm, wrappingKeySpec });
          expect(params).toMatchObject({ wrappingAlgorithm, wrappingKeySpec });
          expect(params.importToken.length).toBeGreaterThan(0);
          expect(params.expiresAt.getTime()).toBeGreaterThan(Date.now());
          const material = randomBytes(32);
          const wrappedKeyMaterial = wrapKeyMaterialForImport({ publicKeyPem: params.publicKeyPem, wrappingAlgorithm, keyMaterial: material });
          const imported = await fx.provider.importKeyMaterial(target, { importToken: params.importToken, wrappingAlgorithm, wrappedKeyMaterial });
          expect(imported).toMatchObject({ ref: target, algorithm: 'AES', sizeBits: 256, state: 'enabled' });
          expect(imported.fingerprint).toMatch(FINGERPRINT);
          if (imported.fingerprint.startsWith('kcv:')) expect(imported.fingerprint).toBe(aesKeyCheckValue(material));
          expect((await fx.provider.describeKey(target)).fingerprint).toBe(imported.fingerprint);
          const { ciphertext } = await fx.provider.wrap(target, Buffer.from('l2 key'), Buffer.from('aad'));
          expect((await fx.provider.unwrap(target, ciphertext, Buffer.from('aad'))).toString()).toBe('l2 key');
          expect((await fx.provider.proofOfPossession(target)).ok).toBe(true);
        }
      });

      it('refuses corrupted blobs, material wrapped under other parameters and wrong key sizes, and the target still imports afterwards', async () => {
        if (!fx.byok) return;
        const wrappingAlgorithm = fx.byok.wrappingAlgorithms[0];
        const target = await fx.byok.newImportTarget();
        const params = await fx.provider.getImportParameters(target, { wrappingAlgorithm, wrappingKeySpec: 'RSA_3072' });
        const wrap = (keyMaterial: Buffer, publicKeyPem = params.publicKeyPem) => wrapKeyMaterialForImport({ publicKeyPem, wrappingAlgorithm, keyMaterial });
        const importing = (wrappedKeyMaterial: Buffer, importToken = params.importToken) =>
          fx.provider.importKeyMaterial(target, { importToken, wrappingAlgorithm, wrappedKeyMaterial });

        const good = wrap(randomBytes(32));
        const corrupted = Buffer.from(good);
        corrupted[corrupted.length >> 1] ^= 0x40;
        expect(['corrupted', 'mismatch']).toContain((await refusal(importing(corrupted))).rule);
        expect(['corrupted', 'mismatch']).toContain((await refusal(importing(Buffer.alloc(0)))).rule);

        const other = await fx.provider.getImportParameters(target, { wrappingAlgorithm, wrappingKeySpec: 'RSA_3072' });
        expect(['corrupted', 'mismatch']).toContain((await refusal(importing(wrap(randomBytes(32), other.publicKeyPem)))).rule);

        const fresh = await fx.provider.getImportParameters(target, { wrappingAlgorithm, wrappingKeySpec: 'RSA_3072' });
        const shortKey = wrapKeyMaterialForImport({ publicKeyPem: fresh.publicKeyPem, wrappingAlgorithm, keyMaterial: randomBytes(16) });
        const tooShort = await refusal(fx.provider.importKeyMaterial(target, { importToken: fresh.importToken, wrappingAlgorithm, wrappedKeyMaterial: shortKey }));
        expect(['key-size', 'corrupted']).toContain(tooShort.rule);

        const last = await fx.provider.getImportParameters(target, { wrappingAlgorithm, wrappingKeySpec: 'RSA_3072' });
        const material = randomBytes(32);
        const imported = await fx.provider.importKeyMaterial(target, {
          importToken: last.importToken,
          wrappingAlgorithm,
          wrappedKeyMaterial: wrapKeyMaterialForImport({ publicKeyPem: last.publicKeyPem, wrappingAlgorithm, keyMaterial: material }),
        });
        expect(imported.state).toBe('enabled');
      });
    });

    it('reports a key disabled at the provider (describe, wrap, proof of possession) and its return once enabled', async () => {
      if (!fx.admin) return;
      const ref = await fx.scratchKey!();
      const { ciphertext } = await fx.provider.wrap(ref, randomBytes(32));
      await fx.admin.disable(ref);
      expect((await fx.provider.describeKey(ref)).state).toBe('disabled');
      await expect(fx.provider.wrap(ref, randomBytes(32))).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(fx.provider.unwrap(ref, ciphertext)).rejects.toBeInstanceOf(KeyDisabledError);
      await expect(fx.provider.proofOfPossession(ref)).rejects.toBeInstanceOf(KeyDisabledError);
      await fx.admin.enable(ref);
      expect((await fx.provider.describeKey(ref)).state).toBe('enabled');
      expect((await fx.provider.unwrap(ref, ciphertext)).length).toBe(32);
    });

    it('rotates at the provider where it can: a new version, old ciphertexts still unwrap; otherwise UnsupportedOperationError', async () => {
      if (!fx.rotates) {
        await expect(fx.provider.rotateKey(fx.keys[0].ref)).rejects.toBeInstanceOf(UnsupportedOperationError);
        return;
      }
      const ref = await fx.scratchKey!();
      const before = await fx.provider.describeKey(ref);
      const old = await fx.provider.wrap(ref, Buffer.from('before rotation'), Buffer.from('a'));
      const rotated = await fx.provider.rotateKey(ref);
      expect(rotated.state).toBe('enabled');
      expect(rotated.version).toBeDefined();
      expect(rotated.version).not.toBe(before.version);
      expect((await fx.provider.describeKey(ref)).version).toBe(rotated.version);
      expect((await fx.provider.unwrap(ref, old.ciphertext, Buffer.from('a'))).toString()).toBe('before rotation');
      const fresh = await fx.provider.wrap(ref, Buffer.from('after rotation'));
      expect((await fx.provider.unwrap(ref, fresh.ciphertext)).toString()).toBe('after rotation');
    });

    it('reports health with a latency', async () => {
      const health = await fx.provider.health();
      expect(health).toMatchObject({ healthy: true });
      expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    });

    it('fails with typed errors only (KeyProviderError subclasses with a code)', async () => {
      const errors = await Promise.all([
        fx.provider.describeKey(fx.missingKeyRef).catch((e: unknown) => e),
        fx.provider.unwrap(fx.keys[0].ref, Buffer.alloc(3)).catch((e: unknown) => e),
        fx.provider.wrap('', Buffer.alloc(1)).catch((e: unknown) => e),
      ]);
      for (const e of errors) {
        expect(e).toBeInstanceOf(KeyProviderError);
        expect(typeof (e as KeyProviderError).code).toBe('string');
        expect((e as KeyProviderError).message.length).toBeGreaterThan(0);
      }
    });
  });

  describe(`KeyProvider contract: ${name} (closing)`, () => {
    it('after close every call fails with ProviderUnavailableError, health reports unhealthy, close is idempotent', async () => {
      const fx = await factory();
      try {
        const key = fx.keys[0];
        const { ciphertext } = await fx.provider.wrap(key.ref, randomBytes(32));
        await fx.provider.close();
        await fx.provider.close();
        await expect(fx.provider.wrap(key.ref, randomBytes(32))).rejects.toBeInstanceOf(ProviderUnavailableError);
        await expect(fx.provider.unwrap(key.ref, ciphertext)).rejects.toBeInstanceOf(ProviderUnavailableError);
        await expect(fx.provider.describeKey(key.ref)).rejects.toBeInstanceOf(ProviderUnavailableError);
        expect((await fx.provider.health()).healthy).toBe(false);
      } finally {
        await fx.provider.close();
        await fx.dispose?.();
      }
    });

    it('lets calls in flight finish when close is called', async () => {
      const fx = await factory();
      try {
        const key = fx.keys[0];
        const inFlight = Array.from({ length: 20 }, () => fx.provider.wrap(key.ref, randomBytes(32)));
        const closed = fx.provider.close();
        const results = await Promise.all(inFlight);
        await closed;
        expect(results).toHaveLength(20);
      } finally {
        await fx.provider.close();
        await fx.dispose?.();
      }
    });
  });
}
