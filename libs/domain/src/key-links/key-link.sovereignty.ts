/**
 * The rules of sovereign linking that look at what the provider said: proofs of possession, BYOK imports and
 * health observations. Pure; the handlers bring the provider's answers as facts.
 */
import { invalidState } from '../shared/errors';
import type { KeyLinkEvent } from './key-link.events';
import type { KeyObservation, KeyProblem, PossessionProof, RecordKeyHealth } from './key-link.commands';
import type { KeyLinkState } from './key-link.state';

type Link = Extract<KeyLinkState, { exists: true }>;

/**
 * A credential reference names where a secret is, never the secret: `env:NAME`, `file:/absolute/path` or
 * `secret:<name>` (a secret manager entry). Anything else is refused, and the value is not echoed back.
 */
export function credentialRefProblem(ref: string): string | undefined {
  if (/^env:[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(ref)) return undefined;
  if (/^file:\/[^\0]{1,1023}$/.test(ref)) return undefined;
  if (/^secret:[A-Za-z0-9][A-Za-z0-9._\/-]{0,254}$/.test(ref)) return undefined;
  return 'credentialRef must be a reference to a credential (env:NAME, file:/absolute/path or secret:name), never the credential itself; the value given is not shown';
}

/** The key the provider proved possession of must be the one linked: same family, same size, same material. */
export function checkProof(link: Link, proof: PossessionProof): void {
  if (proof.algorithm !== link.algorithm || proof.sizeBits !== link.keySize)
    throw invalidState(
      'key-link.key-mismatch',
      `the key at the provider is ${proof.algorithm}-${proof.sizeBits}, but key link ${link.keyLinkId} declares ${link.algorithm}-${link.keySize}`,
      { keyLinkId: link.keyLinkId, provider: `${proof.algorithm}-${proof.sizeBits}`, declared: `${link.algorithm}-${link.keySize}` },
    );
  if (replaced(link, proof))
    throw invalidState(
      'key-link.key-replaced',
      `the key behind ${link.keyReference} is not the key that was linked (its fingerprint changed without a new version); link the new key instead`,
      { keyLinkId: link.keyLinkId, linkedFingerprint: link.fingerprint, foundFingerprint: proof.fingerprint },
    );
}

/** Same version (or a provider without versions) but another fingerprint: the material behind the reference was swapped. */
function replaced(link: Link, seen: { fingerprint?: string; keyVersion?: string }): boolean {
  if (!link.fingerprint || !seen.fingerprint || seen.fingerprint === link.fingerprint) return false;
  return !link.keyVersion || !seen.keyVersion || seen.keyVersion === link.keyVersion;
}

/** BYOK: only a BYOK link still waiting for its material, and still pending, takes import parameters or an import. */
export function checkAwaitsImport(link: Link): void {
  if (link.mode !== 'BYOK') throw invalidState('byok.not-byok', `key link ${link.keyLinkId} is ${link.mode}; only BYOK links import key material`, { keyLinkId: link.keyLinkId });
  if (link.imported) throw invalidState('byok.already-imported', `key material for key link ${link.keyLinkId} is already imported`, { keyLinkId: link.keyLinkId });
  if (link.status !== 'pending')
    throw invalidState('byok.not-pending', `key link ${link.keyLinkId} is ${link.status}; key material is imported while the link is pending`, { keyLinkId: link.keyLinkId, status: link.status });
}

/** BYOK: the import must use parameters issued for this link, before they expire, while the link waits for material. */
export function checkImport(link: Link, importToken: string, now: string): void {
  checkAwaitsImport(link);
  const issued = link.imports.find((i) => i.importToken === importToken);
  if (!issued)
    throw invalidState('byok.import-token-unknown', `no import parameters with this import token were issued for key link ${link.keyLinkId}; request import parameters first`, { keyLinkId: link.keyLinkId });
  if (Date.parse(issued.expiresAt) <= Date.parse(now))
    throw invalidState('byok.import-parameters-expired', `the import parameters expired at ${issued.expiresAt}; request new ones and wrap the key again`, { keyLinkId: link.keyLinkId, expiresAt: issued.expiresAt });
}

/**
 * A health observation becomes events only when something changed: a new problem (or another one), the key
 * healthy again, a new key version. A problem may revoke the link when the policy says so, except `unreachable`,
 * which only warns: a network fault at the provider must not take every tenant on it down by itself.
 */
export function observeHealth(link: Link, command: RecordKeyHealth): KeyLinkEvent[] {
  const ids = { keyLinkId: link.keyLinkId, tenantId: link.tenantId };
  const observation: KeyObservation =
    command.observation.condition === 'healthy' && replaced(link, command.observation) ? { ...command.observation, condition: 'key-replaced' } : command.observation;
  const events: KeyLinkEvent[] = [];
  if (observation.condition === 'healthy') {
    if (observation.keyVersion && link.keyVersion && observation.keyVersion !== link.keyVersion && observation.fingerprint)
      events.push({
        type: 'KeyVersionRotatedAtProvider',
        data: { ...ids, previousVersion: link.keyVersion, keyVersion: observation.keyVersion, ...(link.fingerprint ? { previousFingerprint: link.fingerprint } : {}), fingerprint: observation.fingerprint },
      });
    if (link.health !== 'healthy' && link.health !== 'unknown') events.push({ type: 'KeyLinkHealthRestored', data: { ...ids, previousCondition: link.health } });
    return events;
  }
  const condition: KeyProblem = observation.condition;
  if (link.health === condition) return [];
  const action = condition === 'unreachable' ? 'warn' : command.onProblem;
  events.push({
    type: 'KeyLinkDegraded',
    data: {
      ...ids,
      condition,
      ...(observation.providerCode ? { providerCode: observation.providerCode } : {}),
      action,
      ...(command.policy ? { policyId: command.policy.policyId, policyVersion: command.policy.version } : {}),
    },
  });
  if (action === 'revoke' && (link.status === 'active' || link.status === 'pending'))
    events.push({
      type: 'KeyLinkRevoked',
      data: {
        ...ids,
        reason: `automatic: the key is ${condition} at the provider${command.policy ? ` (policy ${command.policy.policyId} v${command.policy.version}: hyokHealth.onProblem = revoke)` : ''}`,
        previousStatus: link.status,
        automatic: true,
      },
    });
  return events;
}
