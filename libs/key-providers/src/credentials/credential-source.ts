import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { AccessDeniedError, InvalidProviderConfigError } from '../key-provider.errors';

/**
 * A reference to a secret (an HSM PIN, a KMS credential), never the secret itself: configuration and key links
 * hold references, and the secret is read where the provider is called, each time it is needed, so it is never
 * stored, logged, or put in an event.
 *
 * - `env:NAME` — the environment variable NAME
 * - `file:/absolute/path` — the file's content, one trailing newline removed (mounted secrets)
 */
export type CredentialRef = string;

export type ParsedCredentialRef = { kind: 'env'; name: string } | { kind: 'file'; path: string };

/** Resolves a {@link CredentialRef} to the secret. Failures name the reference, never a value. */
export interface CredentialResolver {
  resolve(ref: CredentialRef): Promise<string>;
}

/**
 * Parses a credential reference. A value that is not a reference (someone pasted the PIN itself) is refused
 * without echoing it.
 */
export function parseCredentialRef(ref: string, setting = 'credential'): ParsedCredentialRef {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(ref);
  if (env) return { kind: 'env', name: env[1] };
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length);
    if (!isAbsolute(path)) throw new InvalidProviderConfigError(setting, 'file: references need an absolute path');
    return { kind: 'file', path };
  }
  throw new InvalidProviderConfigError(
    setting,
    'must be a credential reference (env:NAME or file:/absolute/path); the value given is not shown',
  );
}

/** Environment and file references. Other sources (a secret manager) plug in through {@link CredentialResolver}. */
export class DefaultCredentialResolver implements CredentialResolver {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async resolve(ref: CredentialRef): Promise<string> {
    const parsed = parseCredentialRef(ref);
    if (parsed.kind === 'env') {
      const value = this.env[parsed.name];
      if (!value) throw new AccessDeniedError(`credential ${ref} is not set`, { operation: 'resolve-credential' });
      return value;
    }
    let content: string;
    try {
      content = await readFile(parsed.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new AccessDeniedError(`credential ${ref} cannot be read (${code})`, { operation: 'resolve-credential' });
    }
    const value = content.replace(/\r?\n$/, '');
    if (!value) throw new AccessDeniedError(`credential ${ref} is empty`, { operation: 'resolve-credential' });
    return value;
  }
}
