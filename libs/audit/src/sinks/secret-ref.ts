import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { SecretResolutionError } from './sink.errors';

/**
 * Sink credentials (HEC token, Datadog API key) are configured as references and read at send time, so a rotated
 * secret is picked up without a restart and the value is never held in configuration, logs or errors:
 * - `env:NAME`: the environment variable NAME
 * - `file:/absolute/path`: the file's content without one trailing newline (mounted secrets)
 * The same forms as libs/key-providers' credential references; kept apart so libs/audit imports no adapter lib.
 */
export type SecretRef = string;
export type ResolveSecret = (ref: SecretRef) => Promise<string>;

/** Why `value` is not a secret reference, or null when it is one. Never echoes the value (it may be the secret). */
export function secretRefProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a secret reference string (env:NAME or file:/absolute/path)';
  if (/^env:[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return null;
  if (value.startsWith('file:')) return isAbsolute(value.slice(5)) ? null : 'file: references need an absolute path';
  return 'must be a secret reference (env:NAME or file:/absolute/path); the value given is not shown';
}

export function defaultSecretResolver(env: NodeJS.ProcessEnv = process.env): ResolveSecret {
  return async (ref) => {
    if (secretRefProblem(ref) !== null) throw new SecretResolutionError('(invalid reference)', 'is not a secret reference');
    if (ref.startsWith('env:')) {
      const value = env[ref.slice(4)];
      if (!value) throw new SecretResolutionError(ref, 'is not set');
      return value;
    }
    let content: string;
    try {
      content = await readFile(ref.slice(5), 'utf8');
    } catch (e) {
      throw new SecretResolutionError(ref, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const value = content.replace(/\r?\n$/, '');
    if (!value) throw new SecretResolutionError(ref, 'is empty');
    return value;
  };
}
