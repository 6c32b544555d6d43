import type { ProviderKind } from '@cmk/domain';
import { InvalidProviderConfigError, KeyProvider } from '@cmk/key-providers';
import type { Pkcs11KeyProviderConfig } from '@cmk/key-providers/pkcs11';

type Settings = Record<string, unknown>;

/**
 * Builds one adapter from its settings, with a link's credential reference in place of the configured one.
 * Adapters are imported here, on first use, so a control plane that only talks to an HSM does not load (nor pay
 * start-up time for) three cloud SDKs.
 */
export async function buildKeyProvider(kind: ProviderKind, settings: Settings, credentialRef?: string): Promise<KeyProvider> {
  switch (kind) {
    case 'pkcs11': {
      const { Pkcs11KeyProvider } = await import('@cmk/key-providers/pkcs11');
      // The adapter validates its settings here and opens its sessions on first use: an HSM that is down at
      // start-up makes calls fail as unavailable, not the control plane refuse to start.
      return new Pkcs11KeyProvider({ ...(settings as unknown as Pkcs11KeyProviderConfig), ...(credentialRef ? { pin: credentialRef } : {}) });
    }
    default:
      throw new InvalidProviderConfigError(kind, 'this provider kind cannot be reached from the control plane yet');
  }
}
