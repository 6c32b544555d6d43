import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSecretResolver, secretRefProblem } from './secret-ref';
import { SecretResolutionError } from './sink.errors';

describe('secret references', () => {
  it('accepts env:NAME and file:/absolute/path only, never echoing a pasted secret', () => {
    expect(secretRefProblem('env:HEC_TOKEN')).toBeNull();
    expect(secretRefProblem('file:/run/secrets/hec')).toBeNull();
    expect(secretRefProblem('file:relative')).toMatch(/absolute/);
    const problem = secretRefProblem('6f0c1f1e-7a43-4bde-9d2c');
    expect(problem).toMatch(/not shown/);
    expect(problem).not.toContain('6f0c1f1e');
    expect(secretRefProblem(42)).toMatch(/string/);
  });

  it('resolves env and file references at call time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmk-secret-'));
    try {
      const env: NodeJS.ProcessEnv = { TOKEN: 'one' };
      const resolve = defaultSecretResolver(env);
      expect(await resolve('env:TOKEN')).toBe('one');
      env.TOKEN = 'two';
      expect(await resolve('env:TOKEN')).toBe('two');
      await writeFile(join(dir, 'key'), 'from-file\n');
      expect(await resolve(`file:${join(dir, 'key')}`)).toBe('from-file');
      await writeFile(join(dir, 'empty'), '\n');
      await expect(resolve(`file:${join(dir, 'empty')}`)).rejects.toThrow(/is empty/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails naming the reference, not a value', async () => {
    const resolve = defaultSecretResolver({});
    await expect(resolve('env:MISSING')).rejects.toEqual(new SecretResolutionError('env:MISSING', 'is not set'));
    await expect(resolve('file:/nonexistent/x')).rejects.toThrow('secret file:/nonexistent/x cannot be read (ENOENT)');
    const err = (await resolve('raw-secret-value').then(() => null, (e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect(err.message).not.toContain('raw-secret-value');
  });
});
