import * as pkcs11js from 'pkcs11js';
import { ProviderUnavailableError } from '../key-provider.errors';
import { isCkr } from './pkcs11-errors';

/**
 * One loaded PKCS#11 module per library path in this process, shared by every provider (and test helper) using
 * it. Cryptoki state is per process, not per caller: a second C_Initialize fails, a C_Finalize ends everyone's
 * sessions, and session and object handles are numbers that a re-initialised module hands out again. So:
 *
 * - the module is initialised once (with CKF_OS_LOCKING_OK: pkcs11js runs async calls on libuv's thread pool,
 *   and SoftHSM2 uses no locks at all when C_Initialize gets no arguments) and finalised when the last user
 *   releases it;
 * - `generation` changes every time we re-initialise after someone finalised the module under us; session and
 *   object handles from an older generation are never used again, not even to close them, since the same
 *   numbers may name someone else's session or another key now.
 */
export class Pkcs11Module {
  private static readonly byPath = new Map<string, Pkcs11Module>();

  readonly lib: pkcs11js.PKCS11;
  private refs = 0;
  private initialized = false;
  private gen = 0;

  private constructor(readonly path: string) {
    this.lib = new pkcs11js.PKCS11();
    try {
      this.lib.load(path);
    } catch (e) {
      // dlopen's message names the path and the loader's reason; no secrets are involved at this point.
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new ProviderUnavailableError(`cannot load PKCS#11 module ${path}: ${reason}`, { operation: 'load' });
    }
  }

  /** Takes a reference to the module at `path`, loading it the first time. Pair with {@link release}. */
  static acquire(path: string): Pkcs11Module {
    let module = Pkcs11Module.byPath.get(path);
    if (!module) {
      module = new Pkcs11Module(path);
      Pkcs11Module.byPath.set(path, module);
    }
    module.refs++;
    return module;
  }

  get generation(): number {
    return this.gen;
  }

  /** C_Initialize unless done; "already initialised" (by someone else in this process) is fine. */
  ensureInitialized(): void {
    if (this.initialized) return;
    try {
      this.lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (!isCkr(e, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw e;
    }
    this.initialized = true;
  }

  /**
   * Called by a user whose call failed in a way that means the module was finalised or re-initialised under it,
   * with the generation its handles came from. The first such caller moves to a new generation and
   * re-initialises; later callers from the same old generation find it done.
   */
  recover(seenGeneration: number): void {
    if (seenGeneration === this.gen) {
      this.gen++;
      this.initialized = false;
    }
    this.ensureInitialized();
  }

  /** Drops a reference; the last one finalises the module. */
  release(): void {
    if (this.refs === 0) return;
    this.refs--;
    if (this.refs > 0) return;
    Pkcs11Module.byPath.delete(this.path);
    if (this.initialized) {
      this.initialized = false;
      try {
        this.lib.C_Finalize();
      } catch {
        // already finalised under us: nothing left to release
      }
    }
  }
}
