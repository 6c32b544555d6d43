import * as pkcs11js from 'pkcs11js';
import { CredentialResolver, DefaultCredentialResolver } from '../credentials/credential-source';
import {
  ImportRefusedError,
  InvalidKeyReferenceError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { KeyProviderLogger, silentLogger } from '../key-provider.logger';
import {
  IMPORT_WRAPPING_ALGORITHMS,
  IMPORT_WRAPPING_KEY_SPECS,
  ImportParameters,
  ImportParametersRequest,
  ImportWrappingAlgorithm,
  KeyDescription,
  KeyMaterialImport,
  KeyProvider,
  KeyRef,
  ProofOfPossessionResult,
  ProviderHealth,
  WrapResult,
} from '../key-provider.port';
import { proveByRoundTrip } from '../proof-of-possession';
import { ckrName, ckrOf, isCkr, needsKeyLookup, needsSessionRecovery, toKeyProviderError } from './pkcs11-errors';
import { Pkcs11KeyProviderConfig, ValidPkcs11Config, validatePkcs11Config } from './pkcs11-key-provider.config';
import { ImportCapability, ImportTarget, Pkcs11KeyImporter } from './pkcs11-import';
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
  private readonly importer: Pkcs11KeyImporter;
  /** Whether the token can import each wrapping algorithm inside its boundary; a property of the token, probed once. */
  private readonly importCapability = new Map<ImportWrappingAlgorithm, ImportCapability>();
  /** Imports into one label run one at a time in this process (the label check and the creation are two calls). */
  private readonly importLocks = new Map<string, Promise<unknown>>();

  /** Validates the configuration (throws InvalidProviderConfigError); connects lazily, or with {@link connect}. */
  constructor(config: Pkcs11KeyProviderConfig) {
    this.config = validatePkcs11Config(config);
    this.credentials = config.credentials ?? new DefaultCredentialResolver();
    this.log = config.logger ?? silentLogger;
    this.calls = dataCalls[this.config.callMode];
    this.importer = new Pkcs11KeyImporter({ ttlMs: this.config.importParametersTtlMs });
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
      return { ref, algorithm: key.algorithm, sizeBits: key.sizeBits, state: facts.state, location: this.location(lib), fingerprint: facts.fingerprint };
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

  /**
   * BYOK, step 1: an RSA import key pair generated on the token for the key `ref` will name (`object=<label>`),
   * valid for `importParametersTtlMs`. Refused with UnsupportedOperationError when the token cannot unwrap the
   * algorithm inside its boundary (found by a probe, once), and ImportRefusedError `state` when the label is taken.
   */
  getImportParameters(ref: KeyRef, request: ImportParametersRequest): Promise<ImportParameters> {
    return this.run('getImportParameters', ref, async (session, lib, parsed) => {
      const target = importTarget(parsed!, ref);
      checkImportRequest(request, ref);
      return this.withRwSession(lib, async (rw) => {
        await this.requireImportSupport(lib, rw, request.wrappingAlgorithm, ref);
        const params = await this.importer.createParameters(lib, rw, target, request);
        this.log.info(
          { provider: 'pkcs11', operation: 'getImportParameters', keyRef: ref, wrappingAlgorithm: request.wrappingAlgorithm, expiresAt: params.expiresAt.toISOString() },
          'PKCS#11 import key pair generated on the token',
        );
        return params;
      });
    });
  }

  /**
   * BYOK, step 2: C_UnwrapKey of the material into a new AES-256 token object labelled as `ref` says, then the
   * import pair is destroyed. Never retried: a second attempt after a fault half-way could act on a changed token.
   */
  importKeyMaterial(ref: KeyRef, material: KeyMaterialImport): Promise<KeyDescription> {
    return this.run(
      'importKeyMaterial',
      ref,
      async (session, lib, parsed) => {
        const target = importTarget(parsed!, ref);
        return this.serialized(parsed!.canonical, () =>
          this.withRwSession(lib, async (rw) => {
            try {
              if (!IMPORT_WRAPPING_ALGORITHMS.includes(material?.wrappingAlgorithm)) {
                throw new ImportRefusedError('mismatch', `no import parameters exist for that wrapping algorithm (${ref})`, { keyRef: ref, operation: 'importKeyMaterial' });
              }
              await this.requireImportSupport(lib, rw, material.wrappingAlgorithm, ref);
              const imported = this.importer.importMaterial(lib, rw, target, material);
              this.keys.delete(parsed!.canonical);
              this.log.info({ provider: 'pkcs11', operation: 'importKeyMaterial', keyRef: ref, fingerprint: imported.fingerprint }, 'key material imported into the token');
              return { ref, algorithm: 'AES', sizeBits: imported.sizeBits, state: 'enabled' as const, location: this.location(lib), fingerprint: imported.fingerprint };
            } catch (e) {
              if (e instanceof ImportRefusedError) {
                this.log.warn({ provider: 'pkcs11', operation: 'importKeyMaterial', keyRef: ref, rule: e.rule, providerCode: e.details.providerCode }, 'key material import refused');
              }
              throw e;
            }
          }),
        );
      },
      { retry: false },
    );
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
    options: { retry: boolean } = { retry: true },
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
          const retry = options.retry && attempt === 0 && (loggedOut || needsSessionRecovery(e) || needsKeyLookup(e));
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

  private location(lib: pkcs11js.PKCS11): string {
    const token = lib.C_GetTokenInfo(this.pool!.slotHandle());
    return `pkcs11 token "${token.label.trimEnd()}" serial ${token.serialNumber.trimEnd()} (${token.manufacturerID.trimEnd()} ${token.model.trimEnd()})`;
  }

  /** Pooled sessions are read-only; creating and destroying token objects takes a read-write one, opened per call. */
  private async withRwSession<T>(lib: pkcs11js.PKCS11, work: (rw: Buffer) => Promise<T>): Promise<T> {
    const rw = lib.C_OpenSession(this.pool!.slotHandle(), pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      // The pooled session this call holds is logged in, and login state is the application's: so is this one.
      if (!isUserSession(lib.C_GetSessionInfo(rw).state)) {
        throw new ProviderUnavailableError('the PKCS#11 user is not logged in', { operation: 'open-rw-session' });
      }
      return await work(rw);
    } finally {
      try {
        lib.C_CloseSession(rw);
      } catch {
        // gone with the module already
      }
    }
  }

  private async requireImportSupport(lib: pkcs11js.PKCS11, rw: Buffer, algorithm: ImportWrappingAlgorithm, ref: KeyRef): Promise<void> {
    let capability = this.importCapability.get(algorithm);
    if (!capability) {
      capability = await this.importer.probe(lib, rw, algorithm);
      this.importCapability.set(algorithm, capability);
      if (!capability.supported) {
        this.log.warn({ provider: 'pkcs11', operation: 'import-probe', wrappingAlgorithm: algorithm, providerCode: capability.providerCode }, 'the token cannot import this wrapping algorithm inside its boundary');
      }
    }
    if (!capability.supported) {
      throw new UnsupportedOperationError(`BYOK ${algorithm} into this PKCS#11 token is not possible inside the token: ${capability.reason}`, {
        keyRef: ref,
        operation: 'import',
        providerCode: capability.providerCode,
      });
    }
  }

  private async serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.importLocks.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(work);
    this.importLocks.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.importLocks.get(key) === mine) this.importLocks.delete(key);
    }
  }

  private unsupported(operation: string, ref: KeyRef, key: Pkcs11Key): UnsupportedOperationError {
    const why = key.kind === 'rsa' ? `the ${operation === 'wrap' ? 'public' : 'private'} half of the pair is not on the token` : `${key.algorithm} keys cannot ${operation}`;
    return new UnsupportedOperationError(`${ref}: ${why}`, { keyRef: ref, operation });
  }
}

/** An import names the key it creates by label alone; the token gives it a random CKA_ID. */
function importTarget({ parsed, canonical }: ParsedRef, ref: KeyRef): ImportTarget {
  if (parsed.object === undefined || parsed.id !== undefined || (parsed.type !== undefined && parsed.type !== 'secret-key')) {
    throw new InvalidKeyReferenceError('a PKCS#11 import target is named by object=<label> (optionally type=secret-key), without id=', {
      keyRef: ref,
      operation: 'import',
    });
  }
  return { label: parsed.object, keyRef: canonical };
}

function checkImportRequest(request: ImportParametersRequest, ref: KeyRef): void {
  if (!IMPORT_WRAPPING_ALGORITHMS.includes(request?.wrappingAlgorithm) || !IMPORT_WRAPPING_KEY_SPECS.includes(request?.wrappingKeySpec)) {
    throw new UnsupportedOperationError(`import parameters exist for ${IMPORT_WRAPPING_ALGORITHMS.join(' / ')} with ${IMPORT_WRAPPING_KEY_SPECS.join(' / ')}`, {
      keyRef: ref,
      operation: 'getImportParameters',
    });
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
