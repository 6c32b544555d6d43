import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, ExitCode } from '../errors';

/** What `cmk login` keeps: enough to call the API and to refresh without asking the person again. */
export interface StoredCredentials {
  version: 1;
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  resource?: string;
  accessToken: string;
  refreshToken?: string;
  /** ISO time the access token expires. */
  expiresAt: string;
  scope?: string;
}

/** `$XDG_CONFIG_HOME/cmk/credentials.json`, by default `~/.config/cmk/credentials.json`. */
export function credentialsPath(env: Record<string, string | undefined>): string {
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(config, 'cmk', 'credentials.json');
}

/**
 * The tokens on disk: the file 0600 in a 0700 directory, written whole or not at all (temp file, fsync, rename),
 * and never read when someone else could have read or replaced it.
 */
export class TokenStore {
  constructor(readonly path: string) {}

  /** The stored credentials, or undefined when not signed in. Refuses a file others can read or that is not ours. */
  read(): StoredCredentials | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError(`error: cannot read ${this.path} (${(e as NodeJS.ErrnoException).code})`, ExitCode.auth);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CliError(`error: ${this.path} is not a regular file; refusing to read credentials from it`, ExitCode.auth);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid())
        throw new CliError(`error: ${this.path} belongs to another user; refusing to use its tokens (remove it and run cmk login)`, ExitCode.auth);
      if ((st.mode & 0o077) !== 0)
        throw new CliError(`error: ${this.path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); its tokens may have leaked: run cmk logout, then cmk login`, ExitCode.auth);
      const parsed = JSON.parse(readFileSync(fd, 'utf8')) as StoredCredentials;
      if (parsed?.version !== 1 || typeof parsed.accessToken !== 'string' || typeof parsed.tokenEndpoint !== 'string')
        throw new CliError(`error: ${this.path} is not a credentials file this version understands; run cmk login`, ExitCode.auth);
      return parsed;
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`error: ${this.path} is damaged; run cmk login`, ExitCode.auth);
    } finally {
      closeSync(fd);
    }
  }

  write(credentials: StoredCredentials): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // An existing directory keeps its mode through mkdir; ours must not be listable or writable by others.
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
    const tmp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.path);
  }

  /** True when there was something to delete. */
  delete(): boolean {
    try {
      unlinkSync(this.path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }
}
