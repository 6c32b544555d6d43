import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialsPath, StoredCredentials, TokenStore } from './token-store';

const creds: StoredCredentials = { version: 1, issuer: 'https://idp', clientId: 'cmk-cli', tokenEndpoint: 'https://idp/token', accessToken: 'at', refreshToken: 'rt', expiresAt: '2030-01-01T00:00:00.000Z' };

describe('TokenStore (real files in a temporary directory)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cmk-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('follows XDG_CONFIG_HOME, else ~/.config', () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/a' })).toBe('/x/cfg/cmk/credentials.json');
    expect(credentialsPath({ HOME: '/home/a' })).toBe('/home/a/.config/cmk/credentials.json');
    // A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
    expect(credentialsPath({ XDG_CONFIG_HOME: 'rel', HOME: '/home/a' })).toBe('/home/a/.config/cmk/credentials.json');
  });

  it('writes 0600 in a 0700 directory (tightening an existing one), and reads it back', () => {
    mkdirSync(join(dir, 'cmk'), { mode: 0o755 });
    const store = new TokenStore(join(dir, 'cmk', 'credentials.json'));
    store.write(creds);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cmk')).mode & 0o777).toBe(0o700);
    expect(store.read()).toEqual(creds);
    store.write({ ...creds, accessToken: 'at2' });
    expect(store.read()?.accessToken).toBe('at2');
    expect(readFileSync(store.path, 'utf8')).not.toContain('"at"');
  });

  it('refuses a file others can read, names the problem, and never prints a token', () => {
    const store = new TokenStore(join(dir, 'cmk', 'credentials.json'));
    store.write(creds);
    chmodSync(store.path, 0o644);
    expect(() => store.read()).toThrow(/readable by others \(mode 644\)/);
    chmodSync(store.path, 0o640);
    expect(() => store.read()).toThrow(/readable by others/);
    try {
      store.read();
    } catch (e) {
      expect((e as Error).message).not.toContain('rt');
    }
  });

  it('is not signed in without a file, refuses a damaged one, and deletes', () => {
    const store = new TokenStore(join(dir, 'cmk', 'credentials.json'));
    expect(store.read()).toBeUndefined();
    expect(store.delete()).toBe(false);
    mkdirSync(join(dir, 'cmk'), { mode: 0o700 });
    writeFileSync(store.path, '{"version":1,', { mode: 0o600 });
    expect(() => store.read()).toThrow(/damaged/);
    expect(store.delete()).toBe(true);
    expect(store.read()).toBeUndefined();
  });
});
