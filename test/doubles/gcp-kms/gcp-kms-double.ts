/**
 * A protocol-level DOUBLE of Google Cloud KMS (not Google, not an emulator: Google publishes none for KMS):
 * `google.cloud.kms.v1.KeyManagementService` served over real gRPC by `@grpc/grpc-js`, from the .proto files
 * that `@google-cloud/kms` ships, so the client library talks to it unchanged. See README.md for what it
 * implements and where it is knowingly simpler.
 */
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '@cmk/key-providers/gcp-kms/crc32c';
import { DoubleAuth } from './gcp-kms-double.auth';
import { checksumMismatch, GrpcFault, invalid, unimplemented } from './gcp-kms-double.errors';
import { keyManagementServiceDefinition } from './gcp-kms-double.proto';
import { DoubleStore, StoreTiming } from './gcp-kms-double.store';
import { checksum, cryptoKeyMessage, importJobMessage, projectOf, timestamp, versionMessage } from './gcp-kms-double.wire';

export interface GcpKmsDoubleOptions extends Partial<StoreTiming> {
  /** Host to bind (default 127.0.0.1); the port is picked by the OS. */
  host?: string;
}

/** Answer the next matching calls with this status, before anything else is looked at (a front end that is down). */
export interface InjectedFailure {
  code: grpc.status;
  /** Only calls of this method (`Encrypt`, `GetCryptoKey`, ...); default every method. */
  method?: string;
  details?: string;
}

/** Change the next matching response after it was built, as corruption in transit would. */
export interface InjectedCorruption {
  method: 'Encrypt' | 'Decrypt';
  /**
   * `ciphertext` / `plaintext`: one byte of the returned data flipped, its checksum left as computed;
   * `checksum`: the returned checksum off by one; `unverified`: verified_plaintext_crc32c reported false.
   */
  what: 'ciphertext' | 'plaintext' | 'checksum' | 'unverified';
}

export interface RecordedCall {
  method: string;
  /** gRPC status answered (0 = OK). */
  code: grpc.status;
  at: number;
  authorization?: string;
}

const MAX_DATA = 65_536;
const HSM_MAX_DATA = 8_192;

export class GcpKmsDouble {
  readonly auth = new DoubleAuth();
  readonly store: DoubleStore;
  /** Every call answered, in order. */
  readonly calls: RecordedCall[] = [];
  private failures: Array<InjectedFailure & { remaining: number }> = [];
  private corruptions: Array<InjectedCorruption & { remaining: number }> = [];

  private constructor(
    private readonly server: grpc.Server,
    readonly host: string,
    readonly port: number,
    store: DoubleStore,
  ) {
    this.store = store;
  }

  static async start(options: GcpKmsDoubleOptions = {}): Promise<GcpKmsDouble> {
    const store = new DoubleStore({
      hsmGenerationMs: options.hsmGenerationMs ?? 30,
      importMs: options.importMs ?? 20,
      importJobLifetimeMs: options.importJobLifetimeMs ?? 3 * 24 * 3600 * 1000,
    });
    const host = options.host ?? '127.0.0.1';
    const server = new grpc.Server();
    let double: GcpKmsDouble | undefined;
    const handlers = serviceHandlers(store);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(handlers)) {
      implementation[method] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        double!.serve(method, handler, call, callback);
    }
    server.addService(keyManagementServiceDefinition(), implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    double = new GcpKmsDouble(server, host, port, store);
    return double;
  }

  failNext(count: number, failure: InjectedFailure): void {
    this.failures.push({ ...failure, remaining: count });
  }

  corruptNext(count: number, corruption: InjectedCorruption): void {
    this.corruptions.push({ ...corruption, remaining: count });
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Drops every connection at once; afterwards clients get UNAVAILABLE (connection refused). */
  async stop(): Promise<void> {
    this.server.forceShutdown();
    this.store.dispose();
  }

  private serve(
    method: string,
    handler: Handler,
    call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    const authorization = call.metadata.get('authorization')[0];
    const record = (code: grpc.status) =>
      this.calls.push({ method, code, at: performance.now(), authorization: typeof authorization === 'string' ? authorization : undefined });
    try {
      const injected = this.take(this.failures, (f) => !f.method || f.method === method);
      if (injected) throw new GrpcFault(injected.code, injected.details ?? `The service is currently unavailable (injected by the Cloud KMS DOUBLE).`);
      const { resource, permission } = handler.resource(call.request);
      this.auth.authorize(call.metadata, projectOf(`${resource}/`), permission, resource);
      const response = handler.run(call.request) as Record<string, unknown>;
      const corruption = this.take(this.corruptions, (c) => c.method === method);
      if (corruption) corrupt(response, corruption);
      record(grpc.status.OK);
      callback(null, response);
    } catch (e) {
      const fault = e instanceof GrpcFault ? e : new GrpcFault(grpc.status.INTERNAL, 'Internal error encountered.');
      record(fault.code);
      callback({ code: fault.code, details: fault.details, metadata: new grpc.Metadata() } as grpc.ServiceError);
    }
  }

  private take<T extends { remaining: number }>(list: T[], matches: (item: T) => boolean): T | undefined {
    const item = list.find((i) => i.remaining > 0 && matches(i));
    if (item) item.remaining--;
    return item;
  }
}

interface Handler {
  /** The resource the call is about and the IAM permission Cloud KMS checks on it. */
  resource(request: Record<string, unknown>): { resource: string; permission: string };
  run(request: Record<string, unknown>): unknown;
}

type Req = Record<string, any>;

function on(field: string, permission: string, run: (request: Req) => unknown): Handler {
  return { resource: (request) => ({ resource: String(request[field] ?? ''), permission }), run };
}

function serviceHandlers(store: DoubleStore): Record<string, Handler> {
  return {
    CreateKeyRing: on('parent', 'cloudkms.keyRings.create', (r: Req) => {
      const ring = store.createKeyRing(r.parent, r.keyRingId);
      return { name: ring.name, createTime: timestamp(ring.createTime) };
    }),
    GetKeyRing: on('name', 'cloudkms.keyRings.get', (r: Req) => {
      const ring = store.keyRing(r.name);
      return { name: ring.name, createTime: timestamp(ring.createTime) };
    }),
    ListKeyRings: on('parent', 'cloudkms.keyRings.list', (r: Req) => {
      const rings = [...store.keyRings.values()].filter((k) => k.name.startsWith(`${r.parent}/keyRings/`));
      const size = r.pageSize > 0 ? Math.min(r.pageSize, 1000) : 1000;
      return { keyRings: rings.slice(0, size).map((k) => ({ name: k.name, createTime: timestamp(k.createTime) })), nextPageToken: '', totalSize: rings.length };
    }),
    CreateCryptoKey: on('parent', 'cloudkms.cryptoKeys.create', (r: Req) => {
      const spec = r.cryptoKey ?? {};
      const key = store.createCryptoKey(r.parent, r.cryptoKeyId, {
        purpose: spec.purpose,
        importOnly: Boolean(spec.importOnly),
        algorithm: spec.versionTemplate?.algorithm ?? 'GOOGLE_SYMMETRIC_ENCRYPTION',
        protectionLevel: spec.versionTemplate?.protectionLevel ?? 'SOFTWARE',
        skipInitialVersion: Boolean(r.skipInitialVersionCreation),
      });
      return cryptoKeyMessage(store, key);
    }),
    GetCryptoKey: on('name', 'cloudkms.cryptoKeys.get', (r: Req) => cryptoKeyMessage(store, store.key(r.name))),
    GetCryptoKeyVersion: on('name', 'cloudkms.cryptoKeyVersions.get', (r: Req) => versionMessage(store.version(r.name).version)),
    ListCryptoKeyVersions: on('parent', 'cloudkms.cryptoKeyVersions.list', (r: Req) => {
      const versions = store.key(r.parent).versions;
      return { cryptoKeyVersions: versions.map(versionMessage), nextPageToken: '', totalSize: versions.length };
    }),
    CreateCryptoKeyVersion: on('parent', 'cloudkms.cryptoKeyVersions.create', (r: Req) => versionMessage(store.generateVersion(store.key(r.parent)))),
    UpdateCryptoKeyPrimaryVersion: on('name', 'cloudkms.cryptoKeys.update', (r: Req) =>
      cryptoKeyMessage(store, store.setPrimary(store.key(r.name), String(r.cryptoKeyVersionId))),
    ),
    UpdateCryptoKeyVersion: {
      resource: (r: Req) => ({ resource: String(r.cryptoKeyVersion?.name ?? ''), permission: 'cloudkms.cryptoKeyVersions.update' }),
      run: (r: Req) => {
        const paths: string[] = r.updateMask?.paths ?? [];
        if (paths.length !== 1 || paths[0] !== 'state') throw invalid('The double updates only the state field (update_mask: state).');
        return versionMessage(store.setVersionState(r.cryptoKeyVersion.name, r.cryptoKeyVersion.state));
      },
    },
    CreateImportJob: on('parent', 'cloudkms.importJobs.create', (r: Req) =>
      importJobMessage(store.createImportJob(r.parent, r.importJobId, r.importJob?.importMethod, r.importJob?.protectionLevel)),
    ),
    GetImportJob: on('name', 'cloudkms.importJobs.get', (r: Req) => importJobMessage(store.importJob(r.name))),
    ImportCryptoKeyVersion: on('parent', 'cloudkms.cryptoKeyVersions.create', (r: Req) => {
      if (r.cryptoKeyVersion) throw unimplemented('re-import into an existing version');
      const wrapped: Buffer = r.wrappedKey?.length ? r.wrappedKey : (r.rsaAesWrappedKey ?? Buffer.alloc(0));
      return versionMessage(store.importVersion(store.key(r.parent), r.importJob, r.algorithm, wrapped));
    }),
    Encrypt: on('name', 'cloudkms.cryptoKeyVersions.useToEncrypt', (r: Req) => {
      const plaintext: Buffer = r.plaintext ?? Buffer.alloc(0);
      const aad: Buffer = r.additionalAuthenticatedData ?? Buffer.alloc(0);
      const key = store.key(r.name);
      if (plaintext.length === 0) throw invalid('Plaintext is required.');
      if (plaintext.length > MAX_DATA || aad.length > MAX_DATA) throw invalid('The plaintext and additional authenticated data must each be at most 64 KiB.');
      if (key.protectionLevel === 'HSM' && plaintext.length + aad.length > HSM_MAX_DATA) throw invalid('For HSM keys, plaintext and additional authenticated data together must be at most 8 KiB.');
      const plaintextCrc = checksum(r.plaintextCrc32c);
      const aadCrc = checksum(r.additionalAuthenticatedDataCrc32c);
      if (plaintextCrc !== undefined && plaintextCrc !== crc32c(plaintext)) throw checksumMismatch('plaintext_crc32c', 'plaintext');
      if (aadCrc !== undefined && aadCrc !== crc32c(aad)) throw checksumMismatch('additional_authenticated_data_crc32c', 'additional_authenticated_data');
      const { version, ciphertext } = store.encrypt(key, plaintext, aad);
      return {
        name: version.name,
        ciphertext,
        ciphertextCrc32c: { value: crc32c(ciphertext) },
        verifiedPlaintextCrc32c: plaintextCrc !== undefined,
        verifiedAdditionalAuthenticatedDataCrc32c: aadCrc !== undefined,
        protectionLevel: version.protectionLevel,
      };
    }),
    Decrypt: on('name', 'cloudkms.cryptoKeyVersions.useToDecrypt', (r: Req) => {
      const ciphertext: Buffer = r.ciphertext ?? Buffer.alloc(0);
      const aad: Buffer = r.additionalAuthenticatedData ?? Buffer.alloc(0);
      const key = store.key(r.name);
      const ciphertextCrc = checksum(r.ciphertextCrc32c);
      const aadCrc = checksum(r.additionalAuthenticatedDataCrc32c);
      if (ciphertextCrc !== undefined && ciphertextCrc !== crc32c(ciphertext)) throw checksumMismatch('ciphertext_crc32c', 'ciphertext');
      if (aadCrc !== undefined && aadCrc !== crc32c(aad)) throw checksumMismatch('additional_authenticated_data_crc32c', 'additional_authenticated_data');
      const { version, plaintext } = store.decrypt(key, ciphertext, aad);
      return { plaintext, plaintextCrc32c: { value: crc32c(plaintext) }, usedPrimary: version.id === key.primaryId, protectionLevel: version.protectionLevel };
    }),
  };
}

function corrupt(response: Record<string, unknown>, corruption: InjectedCorruption): void {
  const field = corruption.method === 'Encrypt' ? 'ciphertext' : 'plaintext';
  const crcField = corruption.method === 'Encrypt' ? 'ciphertextCrc32c' : 'plaintextCrc32c';
  if (corruption.what === 'unverified') response.verifiedPlaintextCrc32c = false;
  if (corruption.what === 'checksum') {
    const crc = response[crcField] as { value: number };
    response[crcField] = { value: (crc.value + 1) % 2 ** 32 };
  }
  if (corruption.what === 'ciphertext' || corruption.what === 'plaintext') {
    const data = Buffer.from(response[field] as Buffer);
    data[data.length >> 1] ^= 0x20;
    response[field] = data;
  }
}
