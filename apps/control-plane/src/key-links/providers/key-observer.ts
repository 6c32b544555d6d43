import type { KeyObservation, PossessionProof } from '@cmk/domain';
import {
  AccessDeniedError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProvider,
  KeyProviderError,
  ProviderUnavailableError,
} from '@cmk/key-providers';

export interface LinkedKey {
  keyReference: string;
  mode: 'BYOK' | 'HYOK';
}

/**
 * Proof of possession as activation and verification need it: what the provider says the key is, then a fresh
 * challenge through it. Typed provider errors propagate (the edge maps them to problems).
 */
export async function proveKey(provider: KeyProvider, link: LinkedKey): Promise<PossessionProof> {
  const description = await provider.describeKey(link.keyReference);
  if (description.state !== 'enabled') throw new KeyDisabledError(`the key is ${description.state} at the provider`, { keyRef: link.keyReference, operation: 'proofOfPossession' });
  const proof = await provider.proofOfPossession(link.keyReference);
  if (!proof.ok) throw new KeyProviderProofFailed(link.keyReference);
  return {
    algorithm: description.algorithm,
    sizeBits: description.sizeBits,
    fingerprint: description.fingerprint,
    ...(description.version ? { keyVersion: description.version } : {}),
    latencyMs: Math.round(proof.latencyMs * 1000) / 1000,
  };
}

/** The round trip completed but returned other bytes: the provider is not trustworthy for this key. */
export class KeyProviderProofFailed extends Error {
  constructor(readonly keyRef: string) {
    super(`the challenge did not come back unchanged through ${keyRef}`);
    this.name = 'KeyProviderProofFailed';
  }
}

/**
 * One health observation: never throws for what the provider answers, it classifies it. A BYOK key still
 * awaiting its material is not observed (nothing is wrong with it yet): `undefined`.
 */
export async function observeKey(provider: KeyProvider, link: LinkedKey): Promise<KeyObservation | undefined> {
  try {
    const description = await provider.describeKey(link.keyReference);
    if (description.state === 'pending-import') return link.mode === 'BYOK' ? undefined : { condition: 'not-found', providerCode: 'pending-import' };
    if (description.state === 'disabled') return { condition: 'disabled' };
    if (description.state === 'destroyed') return { condition: 'destroyed' };
    const proof = await provider.proofOfPossession(link.keyReference);
    if (!proof.ok) return { condition: 'key-replaced', providerCode: 'proof-mismatch' };
    return { condition: 'healthy', fingerprint: description.fingerprint, ...(description.version ? { keyVersion: description.version } : {}) };
  } catch (error) {
    return classify(error);
  }
}

function classify(error: unknown): KeyObservation {
  const providerCode = error instanceof KeyProviderError ? (error.details.providerCode ?? error.code) : 'unexpected-error';
  if (error instanceof KeyNotFoundError) return { condition: 'not-found', providerCode };
  if (error instanceof KeyDisabledError) return { condition: 'disabled', providerCode };
  if (error instanceof AccessDeniedError) return { condition: 'access-denied', providerCode };
  if (error instanceof ProviderUnavailableError) return { condition: 'unreachable', providerCode };
  return { condition: 'unreachable', providerCode };
}
