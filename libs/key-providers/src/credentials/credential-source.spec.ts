import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessDeniedError, InvalidProviderConfigError } from '../key-provider.errors';
import { DefaultCredentialResolver, parseCredentialRef } from './credential-source';

describe('credential references', () => {
  it('parses env: and absolute file: references', () => {
    expect(parseCredentialRef('env:CMK_PKCS11_PIN')).toEqual({ kind: 'env', name: 'CMK_PKCS11_PIN' });
    expect(parseCredentialRef('file:/run/secrets/pin')).toEqual({ kind: 'file', path: '/run/secrets/pin' });
  });

  it('refuses a literal secret without echoing it, naming the setting', () => {
    const error = (() => {
      try {
        parseCredentialRef('123456-my-pin', 'CMK_PKCS11_PIN_REF');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidProviderConfigError);
    expect(error!.message).toMatch(/^CMK_PKCS11_PIN_REF:/);
    expect(error!.message).not.toContain('123456-my-pin');
    expect(() => parseCredentialRef('file:relative/pin')).toThrow(InvalidProviderConfigError);
  });

  it('resolves at call time from the environment and from files (one trailing newline dropped)', async () => {
    const env: NodeJS.ProcessEnv = {};
    const resolver = new DefaultCredentialResolver(env);
    env.PIN = 'first';
    expect(await resolver.resolve('env:PIN')).toBe('first');
    env.PIN = 'rotated';
    expect(await resolver.resolve('env:PIN')).toBe('rotated');
    const file = join(mkdtempSync(join(tmpdir(), 'cmk-cred-')), 'pin');
    writeFileSync(file, 'from-file\n');
    expect(await resolver.resolve(`file:${file}`)).toBe('from-file');
  });

  it('fails with AccessDeniedError naming the reference when the secret is missing', async () => {
    const resolver = new DefaultCredentialResolver({});
    await expect(resolver.resolve('env:NOPE')).rejects.toThrow(new AccessDeniedError('credential env:NOPE is not set'));
    await expect(resolver.resolve('file:/nonexistent/pin')).rejects.toBeInstanceOf(AccessDeniedError);
  });
});
