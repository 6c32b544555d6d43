import { ProviderKind } from '@cmk/domain';
import { InvalidProviderConfigError, KeyProvider } from '@cmk/key-providers';
import type { LocalKeyProvider } from '@cmk/key-providers/local';
import { KeyProviderSettings, KeyProviderSettingsError } from './key-provider-settings';
import { buildKeyProvider } from './key-provider-factories';

export const KEY_PROVIDERS = Symbol('KEY_PROVIDERS');

/** The link names a provider kind the control plane was not configured to reach. */
export class ProviderNotConfiguredError extends Error {
  constructor(readonly providerKind: string) {
    super(`no ${providerKind} provider is configured here (CMK_KEY_PROVIDERS.${providerKind})`);
    this.name = 'ProviderNotConfiguredError';
  }
}

/**
 * The providers the control plane calls for proof of possession, BYOK imports, health syncs and rotation. One
 * provider per kind from `CMK_KEY_PROVIDERS`, and one more per distinct credential reference a link names (the
 * same settings with that link's credentials), built on first use and kept until close.
 */
export class KeyProviderRegistry {
  private readonly instances = new Map<string, Promise<KeyProvider>>();

  private constructor(
    private readonly settings: KeyProviderSettings,
    private readonly local?: LocalKeyProvider,
  ) {}

  /** Builds every configured provider once, so a bad setting stops the start, naming it. */
  static async open(settings: KeyProviderSettings, local?: LocalKeyProvider): Promise<KeyProviderRegistry> {
    const registry = new KeyProviderRegistry(settings, local);
    for (const kind of Object.keys(settings) as ProviderKind[]) {
      try {
        await registry.forLink({ providerKind: kind });
      } catch (error) {
        await registry.close();
        if (error instanceof InvalidProviderConfigError) throw new KeyProviderSettingsError(`CMK_KEY_PROVIDERS.${kind}.${error.setting}`, error.message.replace(`${error.setting}: `, ''));
        throw error;
      }
    }
    return registry;
  }

  get kinds(): ProviderKind[] {
    return [...(Object.keys(this.settings) as ProviderKind[]), ...(this.local ? (['local'] as const) : [])];
  }

  async forLink(link: { providerKind: string; credentialRef?: string }): Promise<KeyProvider> {
    if (link.providerKind === 'local') {
      if (!this.local) throw new ProviderNotConfiguredError('local');
      return this.local;
    }
    const settings = this.settings[link.providerKind as ProviderKind];
    if (!settings) throw new ProviderNotConfiguredError(link.providerKind);
    const key = `${link.providerKind}\u0000${link.credentialRef ?? ''}`;
    let provider = this.instances.get(key);
    if (!provider) {
      provider = buildKeyProvider(link.providerKind as ProviderKind, settings, link.credentialRef);
      this.instances.set(key, provider);
      provider.catch(() => this.instances.delete(key));
    }
    return provider;
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((p) => p.then((provider) => provider.close()).catch(() => undefined)));
  }
}
