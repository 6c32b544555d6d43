import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { createSecureContext, rootCertificates } from 'node:tls';
import { WRAPPING_KEY_BITS } from '../byok/byok-wrap';
import { DefaultCredentialResolver } from '../credentials/credential-source';
import {
  ImportRefusedError,
  InvalidCiphertextError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyProviderError,
  ProviderUnavailableError,
  UnsupportedOperationError,
} from '../key-provider.errors';
import { KeyProviderLogger, silentLogger } from '../key-provider.logger';
import type {
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
import { InFlightCalls } from '../in-flight-calls';
import { checkWrappedLength, KEK_TARGET_TAG, keyHsmTransferBlob, kekName } from './azure-keyvault-byok';
import { decodeCiphertext, encodeVaultGcm, openEnvelope, sealEnvelope, SCHEME_VAULT_GCM } from './azure-keyvault-ciphertext';
import { azureFailure, toKeyProviderError } from './azure-keyvault-errors';
import { AzureKeyInfo, describeFromInfo, keyInfoFromBundle, usableNow } from './azure-keyvault-key-info';
import { AzureKeyVaultKeyProviderConfig, validateAzureKeyVaultConfig, ValidAzureKeyVaultConfig } from './azure-keyvault-key-provider.config';
import { AzureKeyRef, parseAzureKeyRef } from './azure-keyvault-key-ref';
import { withRetries } from './azure-keyvault-retry';
import { ClientSecretTokenCredential } from './client-secret.credential';

const SUPPORTED_IMPORT: ImportWrappingAlgorithm = 'RSA_AES_KEY_WRAP_SHA_256';
const CACHE_LIMIT = 1024;
const HEALTH_PROBE_KEY = 'cmk-health-probe';
const OCT_OPS = ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'] as const;

/**
 * KeyProvider over Azure Key Vault and Managed HSM (@azure/keyvault-keys and its CryptographyClient).
 *
 * - oct-HSM AES keys wrap with A256GCM at the HSM, the aad as additionalAuthenticatedData.
 * - RSA keys cannot bind aad, so wrap seals the plaintext with a fresh AES-256-GCM key (aad bound) and has the
 *   vault wrap that key with RSA-OAEP-256; both travel in the ciphertext.
 * - Ciphertexts carry the key version, so they unwrap after rotations (see azure-keyvault-ciphertext.ts).
 * - Tokens: OAuth client credentials from references, see client-secret.credential.ts. The SDK's own retries are
 *   off; safe calls are retried here (azure-keyvault-retry.ts), imports and key creation never.
 * - Key Vault encrypts under a disabled key (only decrypt / unwrapKey are refused), so wrap checks the key's
 *   `enabled`, `nbf` and `exp` itself, from metadata at most `keyCacheTtlMs` old.
 */
export class AzureKeyVaultKeyProvider implements KeyProvider {
  readonly kind = 'azure-keyvault';
  private readonly config: ValidAzureKeyVaultConfig;
  private readonly log: KeyProviderLogger;
  private readonly credential: ClientSecretTokenCredential;
  /**
   * With an extra CA, one keep-alive agent and one TLS context for every vault connection: the SDK's
   * `tlsOptions` builds the context (all of Node's roots plus ours) per connection, which cost 4x the throughput.
   */
  private readonly agent?: Agent;
  private readonly clients = new Map<string, KeyClient>();
  private readonly cryptoClients = new Map<string, CryptographyClient>();
  private readonly infos = new Map<string, AzureKeyInfo>();
  /** Bits of oct key versions (Key Vault does not report them; a version's material never changes). */
  private readonly octBits = new Map<string, number>();
  private readonly inFlight = new InFlightCalls();

  /** Validates the configuration (throws InvalidProviderConfigError); nothing is contacted until the first call. */
  constructor(config: AzureKeyVaultKeyProviderConfig) {
    this.config = validateAzureKeyVaultConfig(config);
    this.log = config.logger ?? silentLogger;
    this.credential = new ClientSecretTokenCredential({
      tenantId: this.config.tenantId,
      clientId: this.config.clientId,
      clientSecret: this.config.clientSecret,
      tokenEndpoint: this.config.tokenEndpoint,
      resolver: config.credentials ?? new DefaultCredentialResolver(),
      caPem: this.config.caPem,
      timeoutMs: this.config.timeoutMs,
    });
    if (this.config.caPem) {
      this.agent = new Agent({ keepAlive: true, secureContext: createSecureContext({ ca: [...rootCertificates, this.config.caPem] }) });
    }
  }

  describeKey(ref: KeyRef): Promise<KeyDescription> {
    return this.run('describeKey', ref, async (p) => {
      try {
        const info = await this.fetchInfo(p, 'describeKey');
        return describeFromInfo(ref, p.vaultUrl, info, await this.octSize(p, info));
      } catch (e) {
        const deleted = e instanceof KeyNotFoundError && !p.version ? await this.deletedInfo(p) : undefined;
        if (!deleted) throw e;
        return describeFromInfo(ref, p.vaultUrl, deleted, this.octBits.get(deleted.kid) ?? 0, 'destroyed');
      }
    });
  }

  wrap(ref: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<WrapResult> {
    return this.run('wrap', ref, async (p) => {
      const info = await this.info(p, 'wrap');
      if (!usableNow(info)) throw new KeyDisabledError(`${ref} is disabled or outside its validity period at the vault`, { keyRef: ref, operation: 'wrap' });
      const crypto = this.crypto(p, info.version);
      try {
        if (info.kind === 'oct') {
          const additionalAuthenticatedData = aad?.length ? aad : undefined;
          const r = await this.call('wrap', ref, true, (abortSignal) =>
            crypto.encrypt({ algorithm: 'A256GCM', plaintext, additionalAuthenticatedData }, { abortSignal }),
          );
          if (!r.iv || !r.authenticationTag) throw new UnsupportedOperationError(`${ref}: the vault returned no AES-GCM iv or tag`, { keyRef: ref, operation: 'wrap' });
          return { ciphertext: encodeVaultGcm(info.version, r.iv, r.authenticationTag, r.result), algorithm: 'AES_256_GCM' };
        }
        if (info.kind === 'rsa') {
          const envelopeKey = randomBytes(32);
          try {
            const r = await this.call('wrap', ref, true, (abortSignal) => crypto.wrapKey('RSA-OAEP-256', envelopeKey, { abortSignal }));
            return { ciphertext: sealEnvelope(info.version, r.result, envelopeKey, plaintext, aad), algorithm: 'RSAES_OAEP_SHA_256+AES_256_GCM' };
          } finally {
            envelopeKey.fill(0);
          }
        }
      } catch (e) {
        if (toKeyProviderError(e, { operation: 'wrap' }) instanceof KeyNotFoundError) this.infos.delete(p.canonical);
        throw e;
      }
      throw new UnsupportedOperationError(`${ref}: ${info.kty} keys cannot wrap`, { keyRef: ref, operation: 'wrap' });
    });
  }

  unwrap(ref: KeyRef, ciphertext: Buffer, aad?: Buffer): Promise<Buffer> {
    return this.run('unwrap', ref, async (p) => {
      const c = decodeCiphertext(ciphertext);
      const refused = () => new InvalidCiphertextError(`ciphertext was not produced by ${ref} with this aad, or was changed`, { keyRef: ref, operation: 'unwrap' });
      if (!c || (p.version && c.version !== p.version)) {
        await this.info(p, 'unwrap'); // a missing or deleted key is reported as such, whatever the ciphertext
        throw refused();
      }
      const crypto = this.crypto(p, c.version);
      try {
        if (c.scheme === SCHEME_VAULT_GCM) {
          const r = await this.call('unwrap', ref, true, (abortSignal) =>
            crypto.decrypt(
              { algorithm: 'A256GCM', ciphertext: c.body, iv: c.iv, authenticationTag: c.tag, additionalAuthenticatedData: aad?.length ? aad : undefined },
              { abortSignal },
            ),
          );
          return Buffer.from(r.result);
        }
        const r = await this.call('unwrap', ref, true, (abortSignal) => crypto.unwrapKey('RSA-OAEP-256', c.wrappedKey, { abortSignal }));
        const envelopeKey = Buffer.from(r.result);
        const plaintext = openEnvelope(c, envelopeKey, aad);
        envelopeKey.fill(0);
        if (!plaintext) throw refused();
        return plaintext;
      } catch (e) {
        if (!(toKeyProviderError(e, { operation: 'unwrap' }) instanceof KeyNotFoundError)) throw e;
        // The version named in the ciphertext is not one of this key's: wrong key or a changed version byte.
        this.infos.delete(p.canonical);
        await this.info(p, 'unwrap');
        throw refused();
      }
    });
  }

  proofOfPossession(ref: KeyRef): Promise<ProofOfPossessionResult> {
    return proveByRoundTrip(this, ref);
  }

  /** A fresh key exchange key (RSA-HSM, key_ops ['import'], expiring with the parameters) per call; its kid is the token. */
  getImportParameters(ref: KeyRef, request: ImportParametersRequest): Promise<ImportParameters> {
    return this.run('getImportParameters', ref, async (p) => {
      this.importable(p, ref, 'getImportParameters', request.wrappingAlgorithm);
      const bits = WRAPPING_KEY_BITS[request.wrappingKeySpec];
      if (!bits) throw new UnsupportedOperationError(`wrapping key spec ${request.wrappingKeySpec} is not supported`, { keyRef: ref, operation: 'getImportParameters' });
      // Key Vault keeps `exp` in whole seconds.
      const expiresAt = new Date(Math.floor((Date.now() + this.config.importParametersTtlMs) / 1000) * 1000);
      const name = kekName(p.name);
      const kek = await this.call('getImportParameters', ref, false, (abortSignal) =>
        this.client(p).createRsaKey(name, { keySize: bits, hsm: true, keyOps: ['import'], expiresOn: expiresAt, tags: { [KEK_TARGET_TAG]: p.name }, abortSignal }),
      );
      const info = keyInfoFromBundle(kek);
      if (!info.publicKey) throw new UnsupportedOperationError(`the vault returned no public key for the key exchange key of ${ref}`, { keyRef: ref, operation: 'getImportParameters' });
      this.log.info({ provider: this.kind, operation: 'getImportParameters', keyRef: ref, kek: info.kid, expiresAt: expiresAt.toISOString() }, 'BYOK key exchange key created');
      return {
        importToken: info.kid,
        wrappingAlgorithm: request.wrappingAlgorithm,
        wrappingKeySpec: request.wrappingKeySpec,
        publicKeyPem: info.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        expiresAt,
      };
    });
  }

  importKeyMaterial(ref: KeyRef, material: KeyMaterialImport): Promise<KeyDescription> {
    return this.run('importKeyMaterial', ref, async (p) => {
      this.importable(p, ref, 'importKeyMaterial', material.wrappingAlgorithm);
      const details = { keyRef: ref, operation: 'importKeyMaterial' };
      const kek = await this.kekFor(p, material.importToken, ref);
      checkWrappedLength(material.wrappedKeyMaterial, kek.publicKey!.asymmetricKeyDetails!.modulusLength! / 8, ref);
      let imported;
      try {
        imported = await this.call('importKeyMaterial', ref, false, (abortSignal) =>
          this.client(p).importKey(
            p.name,
            { kty: 'oct-HSM', keyOps: [...OCT_OPS], t: keyHsmTransferBlob(kek.kid, material.wrappedKeyMaterial) },
            { hardwareProtected: true, abortSignal },
          ),
        );
      } catch (e) {
        const f = azureFailure(e);
        const providerCode = [f.code, f.innerCode].filter(Boolean).join('/') || undefined;
        if (f.status === 400) throw new ImportRefusedError('corrupted', `the vault could not unwrap the transfer blob under the key exchange key (${providerCode})`, { ...details, providerCode });
        if (f.status === 409 || (f.status === 403 && f.innerCode === 'KeyDisabled')) {
          throw new ImportRefusedError('state', `${ref} does not accept key material now (${providerCode})`, { ...details, providerCode });
        }
        throw e;
      }
      const info = keyInfoFromBundle(imported);
      this.remember(this.infos, p.canonical, info);
      this.remember(this.octBits, info.kid, 256); // checkWrappedLength admitted AES-256 material only
      this.log.info({ provider: this.kind, operation: 'importKeyMaterial', keyRef: ref, version: info.version }, 'BYOK key material imported');
      await this.retireKek(p, kek.kid, ref);
      return describeFromInfo(ref, p.vaultUrl, info, 256);
    });
  }

  rotateKey(ref: KeyRef): Promise<KeyDescription> {
    return this.run('rotateKey', ref, async (p) => {
      if (p.version) throw new UnsupportedOperationError(`${ref} pins one version; rotate the unversioned reference`, { keyRef: ref, operation: 'rotateKey' });
      // Not retried: a retry after a lost answer would create a second version.
      const rotated = await this.call('rotateKey', ref, false, (abortSignal) => this.client(p).rotateKey(p.name, { abortSignal }));
      const info = keyInfoFromBundle(rotated);
      this.remember(this.infos, p.canonical, info);
      return describeFromInfo(ref, p.vaultUrl, info, await this.octSize(p, info));
    });
  }

  /** Each vault answers a key read with our token: 404 for the probe name is as good as 200; 401/403 are not. */
  async health(): Promise<ProviderHealth> {
    const started = performance.now();
    try {
      await this.run('health', undefined, async () => {
        for (const vaultUrl of this.config.vaultUrls) {
          const p = parseAzureKeyRef(`${vaultUrl}/keys/${HEALTH_PROBE_KEY}`);
          await this.call('health', undefined, false, (abortSignal) => this.client(p).getKey(HEALTH_PROBE_KEY, { abortSignal })).catch((e: unknown) => {
            if (azureFailure(e).status !== 404) throw e;
          });
        }
      });
      return { healthy: true, latencyMs: performance.now() - started };
    } catch (e) {
      const reason = e instanceof KeyProviderError ? e.message : 'unexpected failure';
      return { healthy: false, latencyMs: performance.now() - started, reason };
    }
  }

  close(): Promise<void> {
    return this.inFlight.close(() => {
      this.cryptoClients.clear();
      this.clients.clear();
      this.infos.clear();
      this.credential.reset();
      this.agent?.destroy();
    });
  }

  /** Every public call: closed check, reference check before anything is sent, in-flight count, typed errors. */
  private async run<T>(operation: string, ref: KeyRef | undefined, work: (p: AzureKeyRef) => Promise<T>): Promise<T> {
    if (this.inFlight.closed) throw new ProviderUnavailableError('Azure Key Vault provider is closed', { operation, keyRef: ref });
    const p = ref === undefined ? undefined : parseAzureKeyRef(ref);
    if (p && !this.config.vaultUrls.includes(p.vaultUrl)) {
      // Never sent: a bearer token goes only to the vaults this provider is configured for.
      throw new KeyNotFoundError(`${ref} is in ${p.vaultUrl}, which this provider is not configured for`, { keyRef: ref, operation });
    }
    return this.inFlight.track(async () => {
      try {
        return await work(p!);
      } catch (e) {
        throw toKeyProviderError(e, { operation, keyRef: ref });
      }
    });
  }

  private call<T>(operation: string, keyRef: KeyRef | undefined, safe: boolean, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetries(this.config, safe, fn, (n) =>
      this.log.warn(
        { provider: this.kind, operation, keyRef, providerCode: n.providerCode, attempt: n.attempt, delayMs: Math.round(n.delayMs), retryAfter: n.retryAfter },
        'Azure Key Vault call failed transiently: retrying',
      ),
    );
  }

  private async info(p: AzureKeyRef, operation: string): Promise<AzureKeyInfo> {
    const cached = this.infos.get(p.canonical);
    if (cached && Date.now() - cached.fetchedAt < this.config.keyCacheTtlMs) return cached;
    return this.fetchInfo(p, operation);
  }

  private async fetchInfo(p: AzureKeyRef, operation: string): Promise<AzureKeyInfo> {
    try {
      const key = await this.call(operation, p.canonical, true, (abortSignal) => this.client(p).getKey(p.name, { version: p.version, abortSignal }));
      const info = keyInfoFromBundle(key);
      this.remember(this.infos, p.canonical, info);
      return info;
    } catch (e) {
      this.infos.delete(p.canonical);
      const mapped = toKeyProviderError(e, { operation, keyRef: p.canonical });
      if (mapped instanceof KeyNotFoundError && operation !== 'describeKey' && !p.version && (await this.deletedInfo(p))) {
        throw new KeyDisabledError(`${p.canonical} is deleted at the vault and only recoverable`, { keyRef: p.canonical, operation, providerCode: 'KeyDeleted' });
      }
      throw mapped;
    }
  }

  /** The soft-deleted key of that name, if the vault keeps one (and lets us read it). */
  private async deletedInfo(p: AzureKeyRef): Promise<AzureKeyInfo | undefined> {
    try {
      const deleted = await this.call('getDeletedKey', p.canonical, true, (abortSignal) => this.client(p).getDeletedKey(p.name, { abortSignal }));
      return keyInfoFromBundle(deleted);
    } catch {
      return undefined;
    }
  }

  /**
   * Key Vault reports no size for symmetric keys; an A256GCM / A192GCM / A128GCM encrypt of one byte finds it,
   * once per version. 0 when no probe succeeds (key_ops without encrypt, or refused now).
   */
  private async octSize(p: AzureKeyRef, info: AzureKeyInfo): Promise<number> {
    if (info.kind !== 'oct') return 0;
    const known = this.octBits.get(info.kid);
    if (known !== undefined) return known;
    if (!info.keyOps.includes('encrypt')) return 0;
    const crypto = this.crypto(p, info.version);
    for (const bits of [256, 192, 128] as const) {
      try {
        await this.call('describeKey', p.canonical, true, (abortSignal) => crypto.encrypt({ algorithm: `A${bits}GCM`, plaintext: Buffer.from([0]) }, { abortSignal }));
        this.remember(this.octBits, info.kid, bits);
        return bits;
      } catch (e) {
        if (azureFailure(e).status !== 400) return 0;
      }
    }
    this.remember(this.octBits, info.kid, 0);
    return 0;
  }

  private importable(p: AzureKeyRef, ref: KeyRef, operation: string, algorithm: ImportWrappingAlgorithm): void {
    if (algorithm !== SUPPORTED_IMPORT) {
      throw new UnsupportedOperationError(`Azure Key Vault BYOK here takes ${SUPPORTED_IMPORT} only (CKM_RSA_AES_KEY_WRAP transfer blob), not ${algorithm}`, { keyRef: ref, operation });
    }
    if (p.version) throw new UnsupportedOperationError(`${ref} pins a version; import into the unversioned reference`, { keyRef: ref, operation });
  }

  /** The import token must name a KEK of this target in the same vault, with key_ops ['import'], still valid. */
  private async kekFor(p: AzureKeyRef, token: string, ref: KeyRef): Promise<AzureKeyInfo> {
    const details = { keyRef: ref, operation: 'importKeyMaterial' };
    let kekRef: AzureKeyRef;
    try {
      kekRef = parseAzureKeyRef(token);
    } catch {
      throw new ImportRefusedError('mismatch', 'the import token is not a key exchange key identifier', details);
    }
    if (kekRef.vaultUrl !== p.vaultUrl || !kekRef.version) throw new ImportRefusedError('mismatch', 'the import token names a key exchange key of another vault', details);
    let kek;
    try {
      kek = await this.call('importKeyMaterial', ref, true, (abortSignal) => this.client(p).getKey(kekRef.name, { version: kekRef.version, abortSignal }));
    } catch (e) {
      if (azureFailure(e).status === 404) throw new ImportRefusedError('mismatch', 'the key exchange key of this import token no longer exists (used or deleted)', details);
      throw e;
    }
    const info = keyInfoFromBundle(kek);
    if (info.kind !== 'rsa' || info.keyOps.join() !== 'import' || kek.properties.tags?.[KEK_TARGET_TAG] !== p.name) {
      throw new ImportRefusedError('mismatch', `the import token was not issued for ${ref}`, details);
    }
    if (!usableNow(info)) throw new ImportRefusedError('expired', 'the import parameters have expired (the key exchange key is past its expiry or disabled)', details);
    return info;
  }

  /** A used KEK is deleted so its token cannot import twice; failure to delete is logged, not fatal. */
  private async retireKek(p: AzureKeyRef, kekKid: string, ref: KeyRef): Promise<void> {
    const name = parseAzureKeyRef(kekKid).name;
    try {
      await this.call('importKeyMaterial', ref, false, (abortSignal) => this.client(p).beginDeleteKey(name, { abortSignal }));
    } catch (e) {
      this.log.warn({ provider: this.kind, operation: 'importKeyMaterial', keyRef: ref, kek: kekKid, providerCode: azureFailure(e).code }, 'BYOK key exchange key could not be deleted after the import');
    }
  }

  private client(p: AzureKeyRef): KeyClient {
    let client = this.clients.get(p.vaultUrl);
    if (!client) {
      client = new KeyClient(p.vaultUrl, this.credential, {
        serviceVersion: this.config.serviceVersion,
        disableChallengeResourceVerification: this.config.disableChallengeResourceVerification,
        retryOptions: { maxRetries: 0 },
        agent: this.agent,
        userAgentOptions: { userAgentPrefix: 'openkcm-cmk' },
      });
      this.clients.set(p.vaultUrl, client);
    }
    return client;
  }

  /** One CryptographyClient per key version, sharing the vault's pipeline (and so its token and connections). */
  private crypto(p: AzureKeyRef, version: string): CryptographyClient {
    const kid = `${p.vaultUrl}/keys/${p.name}/${version}`;
    let crypto = this.cryptoClients.get(kid);
    if (!crypto) {
      crypto = this.client(p).getCryptographyClient(p.name, { keyVersion: version });
      this.remember(this.cryptoClients, kid, crypto);
    }
    return crypto;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= CACHE_LIMIT && !map.has(key)) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
}
