import { randomBytes, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { KeyProvider, KeyRef, ProofOfPossessionResult } from './key-provider.port';

const CONTEXT = Buffer.from('cmk:proof-of-possession:v1:');

/**
 * Proof of possession by round trip, shared by the adapters: a fresh 32-byte random challenge is wrapped under
 * the key with a fresh random aad, then unwrapped, and compared in constant time. Only someone able to use the
 * key can complete it, and nothing replayed from an earlier run can pass. Typed errors from either step
 * propagate unchanged.
 */
export async function proveByRoundTrip(
  provider: Pick<KeyProvider, 'wrap' | 'unwrap'>,
  ref: KeyRef,
): Promise<ProofOfPossessionResult> {
  const started = performance.now();
  const challenge = randomBytes(32);
  const aad = Buffer.concat([CONTEXT, randomBytes(16)]);
  const { ciphertext } = await provider.wrap(ref, challenge, aad);
  const back = await provider.unwrap(ref, ciphertext, aad);
  const ok = back.length === challenge.length && timingSafeEqual(back, challenge);
  back.fill(0);
  return { ok, latencyMs: performance.now() - started };
}
