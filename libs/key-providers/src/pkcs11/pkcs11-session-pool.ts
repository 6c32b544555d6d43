import * as pkcs11js from 'pkcs11js';
import { ProviderUnavailableError } from '../key-provider.errors';
import { isCkr } from './pkcs11-errors';
import type { Pkcs11Module } from './pkcs11-module';

export interface PooledSession {
  readonly handle: Buffer;
  /** Module generation the handle belongs to (see {@link Pkcs11Module}). */
  readonly generation: number;
}

export interface SessionPoolOptions {
  tokenLabel: string;
  maxSessions: number;
  acquireTimeoutMs: number;
  /** Logs the token's user in on the given session; resolves the PIN itself, at call time. */
  login(lib: pkcs11js.PKCS11, session: Buffer): Promise<void>;
}

export interface SessionPoolStats {
  open: number;
  idle: number;
  inUse: number;
  waiting: number;
  peakOpen: number;
  peakWaiting: number;
  opened: number;
  logins: number;
}

/** CKS_RO_USER_FUNCTIONS (1) and CKS_RW_USER_FUNCTIONS (3), which pkcs11js does not export (PKCS#11 v2.40, 5.6). */
export function isUserSession(state: number): boolean {
  return state === 1 || state === 3;
}

interface Waiter {
  resolve(s: PooledSession): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A bounded pool of read-only sessions on one token. Sessions are opened lazily up to `maxSessions` and reused;
 * callers beyond the bound wait (FIFO) up to `acquireTimeoutMs`. PKCS#11 login state belongs to the token for
 * the whole application, so the user logs in once, on the first session, and every later session is already
 * logged in (checked with C_GetSessionInfo, not assumed). When the module moves to a new generation the pool
 * forgets its sessions without closing them (their handles may be someone else's now).
 */
export class Pkcs11SessionPool {
  private idle: PooledSession[] = [];
  private open = 0;
  private generation: number;
  private slot?: Buffer;
  private waiters: Waiter[] = [];
  private loginInFlight?: Promise<void>;
  private closed = false;
  private counters = { peakOpen: 0, peakWaiting: 0, opened: 0, logins: 0 };

  constructor(
    private readonly module: Pkcs11Module,
    private readonly options: SessionPoolOptions,
  ) {
    this.generation = module.generation;
  }

  stats(): SessionPoolStats {
    this.syncGeneration();
    return {
      open: this.open,
      idle: this.idle.length,
      inUse: this.open - this.idle.length,
      waiting: this.waiters.length,
      ...this.counters,
    };
  }

  /** The token's slot in the current generation (looked up by label). */
  slotHandle(): Buffer {
    this.syncGeneration();
    if (!this.slot) this.slot = this.findSlot();
    return this.slot;
  }

  async acquire(): Promise<PooledSession> {
    if (this.closed) throw new ProviderUnavailableError('PKCS#11 provider is closed', { operation: 'acquire-session' });
    this.syncGeneration();
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.open < this.options.maxSessions) return this.openOne();
    return new Promise<PooledSession>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(
            new ProviderUnavailableError(
              `no PKCS#11 session free within ${this.options.acquireTimeoutMs} ms (pool of ${this.options.maxSessions})`,
              { operation: 'acquire-session' },
            ),
          );
        }, this.options.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
      this.counters.peakWaiting = Math.max(this.counters.peakWaiting, this.waiters.length);
    });
  }

  /** Returns a session; `discard` closes it (its state is unknown after an unexpected failure). */
  release(session: PooledSession, discard = false): void {
    this.syncGeneration();
    if (session.generation !== this.generation) {
      this.dispatch();
      return;
    }
    if (discard || this.closed) {
      this.open--;
      this.closeQuietly(session);
      this.dispatch();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(session);
    } else {
      this.idle.push(session);
    }
  }

  /** The token said the user is not logged in (someone logged out under us): log in again on this session. */
  async reauthenticate(session: PooledSession): Promise<void> {
    this.loginInFlight = undefined;
    await this.ensureLoggedIn(session.handle);
  }

  /** Closes idle sessions now and the others as they come back; waiting callers are refused. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ProviderUnavailableError('PKCS#11 provider is closed', { operation: 'acquire-session' }));
    }
    this.syncGeneration();
    for (const s of this.idle.splice(0)) {
      this.open--;
      this.closeQuietly(s);
    }
  }

  private syncGeneration(): void {
    if (this.generation === this.module.generation) return;
    this.generation = this.module.generation;
    this.idle = [];
    this.open = 0;
    this.slot = undefined;
    this.loginInFlight = undefined;
    this.dispatch();
  }

  /** Hands capacity freed by a discard or a new generation to waiting callers. */
  private dispatch(): void {
    while (this.waiters.length > 0 && !this.closed) {
      const session = this.idle.pop();
      if (session) {
        const w = this.waiters.shift()!;
        clearTimeout(w.timer);
        w.resolve(session);
        continue;
      }
      if (this.open >= this.options.maxSessions) return;
      const w = this.waiters.shift()!;
      clearTimeout(w.timer);
      this.openOne().then(w.resolve, w.reject);
    }
  }

  private async openOne(): Promise<PooledSession> {
    this.open++;
    this.counters.peakOpen = Math.max(this.counters.peakOpen, this.open);
    const generation = this.generation;
    let handle: Buffer | undefined;
    try {
      this.module.ensureInitialized();
      const { lib } = this.module;
      handle = lib.C_OpenSession(this.slotHandle(), pkcs11js.CKF_SERIAL_SESSION);
      this.counters.opened++;
      await this.ensureLoggedIn(handle);
      return { handle, generation };
    } catch (e) {
      if (generation === this.module.generation) {
        this.open--;
        if (handle) this.closeQuietly({ handle, generation });
        this.dispatch();
      }
      throw e;
    }
  }

  private async ensureLoggedIn(session: Buffer): Promise<void> {
    const { lib } = this.module;
    if (isUserSession(lib.C_GetSessionInfo(session).state)) return;
    if (!this.loginInFlight) {
      const attempt = this.loginOn(session);
      this.loginInFlight = attempt;
      attempt.catch(() => {
        if (this.loginInFlight === attempt) this.loginInFlight = undefined;
      });
    }
    await this.loginInFlight;
    if (!isUserSession(lib.C_GetSessionInfo(session).state)) {
      // Logged out since (another user of the module closed its last session): log in again on this one.
      this.loginInFlight = undefined;
      await this.loginOn(session);
    }
  }

  private async loginOn(session: Buffer): Promise<void> {
    try {
      await this.options.login(this.module.lib, session);
      this.counters.logins++;
    } catch (e) {
      if (!isCkr(e, 'CKR_USER_ALREADY_LOGGED_IN')) throw e;
    }
  }

  private findSlot(): Buffer {
    this.module.ensureInitialized();
    const { lib } = this.module;
    for (const slot of lib.C_GetSlotList(true)) {
      if (lib.C_GetTokenInfo(slot).label.trimEnd() === this.options.tokenLabel) return slot;
    }
    throw new ProviderUnavailableError(`no PKCS#11 token labelled "${this.options.tokenLabel}" is present`, {
      operation: 'find-token',
    });
  }

  private closeQuietly(session: PooledSession): void {
    if (session.generation !== this.module.generation) return;
    try {
      this.module.lib.C_CloseSession(session.handle);
    } catch {
      // the session is gone either way
    }
  }
}
