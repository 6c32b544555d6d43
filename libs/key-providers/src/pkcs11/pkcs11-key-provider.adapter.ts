import * as pkcs11js from 'pkcs11js';
import { CredentialResolver, DefaultCredentialResolver } from '../credentials/credential-source';
import {
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { KeyProviderLogger, silentLogger } from '../key-provider.logger';
import type {
  KeyDescription,
  KeyProvider,
  KeyRef,
  ProofOfPossessionResult,
  ProviderHealth,
  WrapResult,
} from '../key-provider.port';
import { proveByRoundTrip } from '../proof-of-possession';
import { ckrName, ckrOf, isCkr, needsKeyLookup, needsSessionRecovery, toKeyProviderError } from './pkcs11-errors';
import { Pkcs11KeyProviderConfig, ValidPkcs11Config, validatePkcs11Config } from './pkcs11-key-provider.config';
import { findKey, Pkcs11Key, readKeyFacts } from './pkcs11-keys';
import { aesGcmDecrypt, aesGcmEncrypt, DataCalls, dataCalls, RsaOaepSha256 } from './pkcs11-mechanisms';
import { Pkcs11Module } from './pkcs11-module';
import { isUserSession, Pkcs11SessionPool, PooledSession, SessionPoolStats } from './pkcs11-session-pool';
import { formatPkcs11KeyRef, parsePkcs11KeyRef, Pkcs11KeyRef } from './pkcs11-uri';

export interface Pkcs11ProviderStats extends SessionPoolStats {
  /** Times a call found the module finalised / its session gone and re-initialised before retrying. */
  recoveries: number;
  generation: number;
  cachedKeys: number;
  rsaOaepMode: 'native' | 'raw-rsa' | 'undecided';
}

const CACHE_LIMIT = 1024;

interface ParsedRef {
  parsed: Pkcs11KeyRef;
  /** Canonical form: the key-handle cache key. */
  canonical: string;
}

/**
 * KeyProvider over a PKCS#11 token (pkcs11js): AES keys wrap with AES-GCM, RSA key pairs with RSA-OAEP-SHA-256.
 * Sessions come from a bounded pool and log in once; object handles are cached per key reference and looked up
 * again after an error; a call that finds the module finalised or its session gone re-initialises and retries
 * once. The PIN is resolved from its reference each time a login is needed and never kept or logged.
 */
export class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = 'pkcs11';
  private readonly config: ValidPkcs11Config;
  private readonly credentials: CredentialResolver;
  private readonly log: KeyProviderLogger;
  private module?: Pkcs11Module;
  private pool?: Pkcs11SessionPool;
  private readonly rsa: RsaOaepSha256;
  private readonly calls: DataCalls;
  private readonly refs = new Map<string, ParsedRef>();
  private readonly keys = new Map<string, Pkcs11Key>();
  private recoveries = 0;
  private reauthenticate = false;
  private inFlight = 0;
  private drained?: () => void;
  private closing?: Promise<void>;

  /** Validates the configuration (throws InvalidProviderConfigError); connects lazily, or with {@link connect}. */
  constructor(config: Pkcs11KeyProviderConfig) {
    this.config = validatePkcs11Config(config);
    this.credentials = config.credentials ?? new DefaultCredentialResolver();
    this.log = config.logger ?? silentLogger;
    this.calls = dataCalls[this.config.callMode];
    this.rsa = new RsaOaepSha256(this.config.rsaOaep, this.calls, (providerCode) =>
      this.log.info({ provider: 'pkcs11', providerCode }, 'token refuses native RSA-OAEP-SHA-256: using raw RSA with OAEP padding in the adapter'),
    );
  }

  /** Loads the module, finds the token and logs in now, so a bad setting or PIN stops start-up. */
  async connect(): Promise<void> {
    await this.run('connect', undefined, async () => undefined);
  }

  describeKey(ref: KeyRef): Promise<KeyDescription> {
    return this.withKey('describeKey', ref, async (session, key, lib) => {
      const facts = readKeyFacts(lib, session.handle, key);
      const token = lib.C_GetTokenInfo(this.pool!.slotHandle());
      return {
        ref,
        algorithm: key.algorithm,
        sizeBits: key.sizeBits,
        state: facts.state,
        location: `pkcs11 token "${token.label.trimEnd()}" serial ${token.serialNumber.trimEnd()} (${token.manufacturerID.trimEnd()} ${token.model.trimEnd()})`,
        fingerprint: facts.fingerprint,
      };
    });
  }

  wrap(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<WrapResult> {
    return this.withKey('wrap', ref, async (session, key, lib) => {
      if (key.kind === 'aes') {
        const ciphertext = await aesGcmEncrypt(this.calls, lib, session.handle, key.secret!, plaintext, aad);
        return { ciphertext, algorithm: `AES_${key.sizeBits}_GCM` };
      }
      if (key.kind === 'rsa' && key.publicKey) {
        const ciphertext = await this.rsa.encrypt(lib, session.handle, key.publicKey, key.modulusBytes!, plaintext, aad, ref);
        return { ciphertext, algorithm: 'RSAES_OAEP_SHA_256' };
      }
      throw this.unsupported('wrap', ref, key);
    });
  }

  unwrap(ref: KeyRef, ciphertext: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.withKey('unwrap', ref, async (session, key, lib) => {
      if (key.kind === 'aes') return aesGcmDecrypt(this.calls, lib, session.handle, key.secret!, ciphertext, aad, ref);
      if (key.kind === 'rsa' && key.privateKey) {
        return this.rsa.decrypt(lib, session.handle, key.privateKey, key.modulusBytes!, ciphertext, aad, ref);
      }
      throw this.unsupported('unwrap', ref, key);
    });
  }

  // BYOK import and rotation on PKCS#11 are not built yet: refused with a typed error.
  async getImportParameters(ref: KeyRef): Promise<never> {
    throw new UnsupportedOperationError('BYOK import into a PKCS#11 token is not supported yet', { keyRef: ref, operation: 'getImportParameters' });
  }

  async importKeyMaterial(ref: KeyRef): Promise<never> {
    throw new UnsupportedOperationError('BYOK import into a PKCS#11 token is not supported yet', { keyRef: ref, operation: 'importKeyMaterial' });
  }

  async rotateKey(ref: KeyRef): Promise<never> {
    throw new UnsupportedOperationError('PKCS#11 tokens do not version keys', { keyRef: ref, operation: 'rotateKey' });
  }

  proofOfPossession(ref: KeyRef): Promise<ProofOfPossessionResult> {
    return proveByRoundTrip(this, ref);
  }

  /** Session alive, user logged in, token present with its user PIN neither locked nor to be changed. */
  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    try {
      await this.run('health', undefined, async (session, lib) => {
        if (!isUserSession(lib.C_GetSessionInfo(session.handle).state)) {
          throw new ProviderUnavailableError('session is not logged in', { operation: 'health' });
        }
        const flags = lib.C_GetTokenInfo(this.pool!.slotHandle()).flags;
        if (flags & (pkcs11js.CKF_USER_PIN_LOCKED | pkcs11js.CKF_USER_PIN_TO_BE_CHANGED)) {
          throw new ProviderUnavailableError('the token user PIN is locked or must be changed', { operation: 'health' });
        }
      });
      return { healthy: true, latencyMs: performance.now() - started };
    } catch (e) {
      const reason = e instanceof KeyProviderError ? e.message : 'unexpected failure';
      return { healthy: false, latencyMs: performance.now() - started, reason };
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.pool?.close();
      this.module?.release();
      this.keys.clear();
    })();
    return this.closing;
  }

  stats(): Pkcs11ProviderStats {
    const pool = this.pool?.stats() ?? { open: 0, idle: 0, inUse: 0, waiting: 0, peakOpen: 0, peakWaiting: 0, opened: 0, logins: 0 };
    return {
      ...pool,
      recoveries: this.recoveries,
      generation: this.module?.generation ?? 0,
      cachedKeys: this.keys.size,
      rsaOaepMode: this.rsa.currentMode,
    };
  }

  private withKey<T>(
    operation: string,
    ref: KeyRef,
    work: (session: PooledSession, key: Pkcs11Key, lib: pkcs11js.PKCS11) => Promise<T>,
  ): Promise<T> {
    return this.run(operation, ref, (session, lib, parsed) => work(session, this.lookup(lib, session, parsed!), lib));
  }

  /**
   * Every call goes through here: a pooled session, the work (which looks the key up: cached handle or a
   * search), and one retry after recovering from a finalised module, a dead session, a logged-out user or a
   * stale object handle.
   */
  private async run<T>(
    operation: string,
    ref: KeyRef | undefined,
    work: (session: PooledSession, lib: pkcs11js.PKCS11, parsed: ParsedRef | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.closing) throw new ProviderUnavailableError('PKCS#11 provider is closed', { operation, keyRef: ref });
    const parsed = ref === undefined ? undefined : this.parseRef(ref, operation);
    this.inFlight++;
    try {
      const { module, pool } = this.connectOnce(operation);
      for (let attempt = 0; ; attempt++) {
        const generation = module.generation;
        let session: PooledSession | undefined;
        try {
          session = await pool.acquire();
          if (this.reauthenticate) {
            this.reauthenticate = false;
            await pool.reauthenticate(session);
          }
          const result = await work(session, module.lib, parsed);
          pool.release(session);
          return result;
        } catch (e) {
          // A logout under us hides private objects: SoftHSM2 then answers CKR_KEY_HANDLE_INVALID, or finds nothing.
          const loggedOut = session !== undefined && this.loggedOut(module.lib, session);
          const retry = attempt === 0 && (loggedOut || needsSessionRecovery(e) || needsKeyLookup(e));
          if (session) pool.release(session, !retry && !(e instanceof KeyProviderError) && ckrOf(e) === undefined);
          if (!retry) throw toKeyProviderError(e, { operation, keyRef: ref });
          this.recover(e, generation, module, parsed?.canonical, operation, loggedOut);
        }
      }
    } finally {
      if (--this.inFlight === 0 && this.drained) this.drained();
    }
  }

  private recover(
    e: unknown,
    generation: number,
    module: Pkcs11Module,
    canonical: string | undefined,
    operation: string,
    loggedOut: boolean,
  ): void {
    this.recoveries++;
    const code = ckrOf(e);
    const providerCode = code === undefined ? undefined : ckrName(code);
    if (loggedOut || isCkr(e, 'CKR_USER_NOT_LOGGED_IN')) {
      this.reauthenticate = true;
      if (canonical) this.keys.delete(canonical);
      this.log.warn({ provider: 'pkcs11', operation, providerCode, reason: 'logged-out' }, 'PKCS#11 user was logged out under us: logging in again');
      return;
    }
    if (needsKeyLookup(e)) {
      if (canonical) this.keys.delete(canonical);
      return;
    }
    this.log.warn(
      { provider: 'pkcs11', operation, providerCode, generation },
      'PKCS#11 module finalised or session lost under us: re-initialising and retrying once',
    );
    this.keys.clear();
    try {
      module.recover(generation);
    } catch (again) {
      throw toKeyProviderError(again, { operation: 'reinitialize' });
    }
  }

  /** True when the session works but is no longer logged in (someone called C_Logout in this process). */
  private loggedOut(lib: pkcs11js.PKCS11, session: PooledSession): boolean {
    try {
      return !isUserSession(lib.C_GetSessionInfo(session.handle).state);
    } catch {
      return false; // the session itself is gone: session recovery handles that
    }
  }

  private connectOnce(operation: string): { module: Pkcs11Module; pool: Pkcs11SessionPool } {
    if (!this.module) {
      this.module = Pkcs11Module.acquire(this.config.modulePath);
      this.pool = new Pkcs11SessionPool(this.module, {
        tokenLabel: this.config.tokenLabel,
        maxSessions: this.config.maxSessions,
        acquireTimeoutMs: this.config.acquireTimeoutMs,
        login: (lib, session) => this.login(lib, session),
      });
      this.log.info({ provider: 'pkcs11', operation, module: this.config.modulePath, token: this.config.tokenLabel }, 'PKCS#11 module loaded');
    }
    return { module: this.module, pool: this.pool! };
  }

  /** The PIN lives only for the duration of this call. */
  private async login(lib: pkcs11js.PKCS11, session: Buffer): Promise<void> {
    const pin = await this.credentials.resolve(this.config.pin);
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (e) {
      throw redact(e, pin);
    }
  }

  private lookup(lib: pkcs11js.PKCS11, session: PooledSession, { parsed, canonical }: ParsedRef): Pkcs11Key {
    const cached = this.keys.get(canonical);
    if (cached && cached.generation === session.generation) return cached;
    if (parsed.serial !== undefined) {
      const serial = lib.C_GetTokenInfo(this.pool!.slotHandle()).serialNumber.trimEnd();
      if (serial !== parsed.serial) {
        throw new KeyNotFoundError(`${canonical} names token serial ${parsed.serial}; the token has serial ${serial}`, { keyRef: canonical });
      }
    }
    const key = findKey(lib, session.handle, parsed, canonical, session.generation);
    remember(this.keys, canonical, key);
    return key;
  }

  /** Parsing is cached: the same few references come back on every call. */
  private parseRef(ref: KeyRef, operation: string): ParsedRef {
    const known = this.refs.get(ref);
    if (known) return known;
    const parsed = parsePkcs11KeyRef(ref);
    if (parsed.token !== undefined && parsed.token !== this.config.tokenLabel) {
      throw new KeyNotFoundError(`${ref} is on token "${parsed.token}"; this provider serves token "${this.config.tokenLabel}"`, {
        keyRef: ref,
        operation,
      });
    }
    const entry = { parsed, canonical: formatPkcs11KeyRef(parsed) };
    remember(this.refs, ref, entry);
    return entry;
  }

  private unsupported(operation: string, ref: KeyRef, key: Pkcs11Key): UnsupportedOperationError {
    const why = key.kind === 'rsa' ? `the ${operation === 'wrap' ? 'public' : 'private'} half of the pair is not on the token` : `${key.algorithm} keys cannot ${operation}`;
    return new UnsupportedOperationError(`${ref}: ${why}`, { keyRef: ref, operation });
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= CACHE_LIMIT && !map.has(key)) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** Belt and braces: a PKCS#11 library is foreign code; make sure nothing it throws can carry the PIN onwards. */
function redact(e: unknown, pin: string): unknown {
  if (!(e instanceof Error) || !pin || !`${e.message}\n${e.stack}`.includes(pin)) return e;
  const scrub = (s: string | undefined) => (s ?? '').split(pin).join('[redacted]');
  const clean = new Error(scrub(e.message));
  clean.name = e.name;
  clean.stack = scrub(e.stack);
  (clean as Error & { code?: unknown }).code = (e as Error & { code?: unknown }).code;
  return clean;
}
