import { PROVIDER_KINDS, ProviderKind } from '@cmk/domain';

/**
 * `CMK_KEY_PROVIDERS`: how the control plane reaches each provider kind, as JSON, e.g.
 * `{"pkcs11":{"modulePath":"/usr/lib/softhsm/libsofthsm2.so","tokenLabel":"cmk","pin":"env:CMK_PKCS11_PIN"},
 *   "aws-kms":{"region":"eu-central-1","accessKeyId":"env:AWS_ACCESS_KEY_ID",...}}`.
 * Each object is the adapter's own configuration (see its config type); secrets appear only as references.
 * The adapters validate their settings when the control plane starts.
 */
export type KeyProviderSettings = Partial<Record<ProviderKind, Record<string, unknown>>>;

export class KeyProviderSettingsError extends Error {
  constructor(readonly setting: string, problem: string) {
    super(`${setting} ${problem}`);
    this.name = 'KeyProviderSettingsError';
  }
}

export function parseKeyProviderSettings(raw: string | undefined): KeyProviderSettings {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new KeyProviderSettingsError('CMK_KEY_PROVIDERS', 'is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new KeyProviderSettingsError('CMK_KEY_PROVIDERS', `must be a JSON object keyed by provider kind (${PROVIDER_KINDS.join(', ')})`);
  const settings: KeyProviderSettings = {};
  for (const [kind, value] of Object.entries(parsed)) {
    if (!(PROVIDER_KINDS as readonly string[]).includes(kind) || kind === 'local')
      throw new KeyProviderSettingsError(`CMK_KEY_PROVIDERS.${kind}`, `is not a configurable provider kind (${PROVIDER_KINDS.filter((k) => k !== 'local').join(', ')})`);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new KeyProviderSettingsError(`CMK_KEY_PROVIDERS.${kind}`, 'must be an object');
    settings[kind as ProviderKind] = value as Record<string, unknown>;
  }
  return settings;
}
