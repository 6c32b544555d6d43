import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeKeyProviderContract } from '../testing/key-provider.contract';
import { LocalKeyProvider } from './local-key-provider.adapter';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describeKeyProviderContract('local software provider (embedded demo only; key files in a temp dir)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmk-local-keys-'));
  dirs.push(dir);
  const provider = new LocalKeyProvider({ dir });
  const a = await provider.createKey('root-a');
  const b = await provider.createKey('root-b');
  return {
    provider,
    keys: [
      { name: 'AES-256 a', ref: a, algorithm: 'AES', sizeBits: 256 },
      { name: 'AES-256 b', ref: b, algorithm: 'AES', sizeBits: 256 },
    ],
    missingKeyRef: 'local:key=missing',
    rotates: false,
  };
});

describe('LocalKeyProvider files', () => {
  it('keeps each key in its own 0600 file and creates it only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmk-local-keys-'));
    dirs.push(dir);
    const first = new LocalKeyProvider({ dir });
    const ref = await first.createKey('demo-root');
    const { ciphertext } = await first.wrap(ref, Buffer.from('l2 key bytes'));
    expect(statSync(join(dir, 'demo-root.key')).mode & 0o777).toBe(0o600);
    const again = new LocalKeyProvider({ dir });
    expect(await again.createKey('demo-root')).toBe(ref);
    expect((await again.unwrap(ref, ciphertext)).toString()).toBe('l2 key bytes');
    expect((await again.describeKey(ref)).fingerprint).toBe((await first.describeKey(ref)).fingerprint);
    await expect(first.createKey('Bad Name')).rejects.toThrow('1-64 characters');
  });
});
