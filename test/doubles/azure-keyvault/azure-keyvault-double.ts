/**
 * A protocol-level DOUBLE of the Azure Key Vault / Managed HSM keys REST API and of the Entra ID token endpoint
 * (not Azure, not an emulator): HTTPS on 127.0.0.1 with a self-signed certificate, shapes taken from the SDK's own
 * generated models and operations (node_modules/@azure/keyvault-keys/dist/commonjs/models/models.js and
 * api/operations.js). See README.md for what it implements and where it is knowingly simpler than the service.
 */
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CryptoOperation, KeyVaultDoubleKeys } from './azure-keyvault-double.keys';
import { selfSignedCertificate } from './azure-keyvault-double.tls';
import { DoubleClient, TokenEndpointDouble } from './azure-keyvault-double.token';
import { b64u, badParameter, unixSeconds, WireError } from './azure-keyvault-double.wire';

export const SUPPORTED_API_VERSIONS = ['7.4', '7.5', '7.6', '2025-07-01'];
const CRYPTO_OPS: CryptoOperation[] = ['encrypt', 'decrypt', 'wrapkey', 'unwrapkey'];
const READ_ONLY = new Set(['GET']);

export interface InjectedFault {
  status: number;
  code: string;
  /** Seconds, sent as Retry-After (429 and 503 carry it at the service). */
  retryAfterSeconds?: number;
  /** Only requests whose path matches; default every authenticated vault request. */
  path?: RegExp;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
  /** The JSON body of PUT (import) requests, for tests of the transfer-blob format; wrapped material only. */
  body?: Record<string, unknown>;
}

export interface AzureKeyVaultDoubleOptions {
  clients: DoubleClient[];
  tenantId?: string;
}

export class AzureKeyVaultDouble {
  readonly keys: KeyVaultDoubleKeys;
  readonly tokens: TokenEndpointDouble;
  readonly requests: RecordedRequest[] = [];
  private readonly faults: InjectedFault[] = [];
  private port = 0;

  private constructor(
    private readonly server: Server,
    readonly caPem: string,
    readonly tenantId: string,
    clients: DoubleClient[],
  ) {
    this.keys = new KeyVaultDoubleKeys(() => this.vaultUrl);
    this.tokens = new TokenEndpointDouble(tenantId, clients);
  }

  static async start(options: AzureKeyVaultDoubleOptions): Promise<AzureKeyVaultDouble> {
    const { cert, key } = selfSignedCertificate();
    const server = createServer({ cert, key });
    const double = new AzureKeyVaultDouble(server, cert, options.tenantId ?? randomUUID(), options.clients);
    server.on('request', (req, res) => void double.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    double.port = (server.address() as AddressInfo).port;
    return double;
  }

  get vaultUrl(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Where the adapter's credential asks for tokens (Entra ID's path shape on the double's host). */
  get tokenEndpoint(): string {
    return `${this.vaultUrl}/${this.tenantId}/oauth2/v2.0/token`;
  }

  /** The next `count` authenticated vault requests (matching `fault.path`) answer with this fault. */
  failNext(count: number, fault: InjectedFault): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Stops listening and drops every open connection: afterwards connections are refused. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const url = new URL(req.url ?? '/', this.vaultUrl);
    let recordedBody: Record<string, unknown> | undefined;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, status, at, ...(recordedBody ? { body: recordedBody } : {}) });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-keyvault-service-version': 'DOUBLE', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      const raw = await readBody(req);
      const segments = url.pathname.split('/').slice(1);
      if (segments[1] === 'oauth2' && segments[3] === 'token' && req.method === 'POST') {
        const { status, body } = this.tokens.token(segments[0], new URLSearchParams(raw));
        return send(status, body);
      }
      const caller = this.tokens.caller(req.headers.authorization);
      if (!caller) {
        const challenge = `Bearer authorization="https://login.microsoftonline.com/${this.tenantId}", resource="https://vault.azure.net"`;
        const message = req.headers.authorization ? 'AKV10032: Invalid issuer or expired token.' : 'AKV10000: Request is missing a Bearer or PoP token.';
        return send(401, new WireError(401, 'Unauthorized', message).body(), { 'www-authenticate': challenge });
      }
      const faultAt = this.faults.findIndex((f) => !f.path || f.path.test(url.pathname));
      if (faultAt >= 0) {
        const [fault] = this.faults.splice(faultAt, 1);
        const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
        return send(fault.status, new WireError(fault.status, fault.code, faultMessage(fault.code)).body(), headers);
      }
      const apiVersion = url.searchParams.get('api-version') ?? '';
      if (!SUPPORTED_API_VERSIONS.includes(apiVersion)) {
        throw badParameter(`The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (2025-07-01).`);
      }
      if (caller.role !== 'all' && !READ_ONLY.has(req.method ?? '')) {
        throw new WireError(403, 'Forbidden', `Caller is not authorized to perform action on resource. Caller: appid=${caller.clientId}`, 'ForbiddenByRbac');
      }
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (req.method === 'PUT') recordedBody = body;
      const [status, out] = await this.route(req.method ?? '', segments, body);
      return send(status, out);
    } catch (e) {
      if (e instanceof WireError) return send(e.status, e.body(), e.headers);
      if (e instanceof SyntaxError) return send(400, badParameter('The request body is not valid JSON').body());
      return send(500, new WireError(500, 'InternalServerError', 'The double failed unexpectedly').body());
    }
  }

  private async route(method: string, segments: string[], body: Record<string, unknown>): Promise<[number, unknown]> {
    const [collection, name, second, third] = segments;
    if (collection === 'deletedkeys' && name && method === 'GET') {
      const { version, deletedDate } = this.keys.getDeleted(name);
      return [200, this.deletedBundle(name, version, deletedDate)];
    }
    if (collection !== 'keys' || !name) throw new WireError(404, 'NotFound', 'The requested resource was not found');
    if (method === 'POST' && second === 'create' && third === undefined) return [200, this.keys.bundle(await this.keys.create(name, body))];
    if (method === 'POST' && second === 'rotate' && third === undefined) return [200, this.keys.bundle(await this.keys.rotate(name))];
    if (method === 'GET' && second === 'versions') {
      return [200, { value: this.keys.versions(name).map((v) => ({ kid: this.keys.kid(v), attributes: this.keys.bundle(v).attributes })), nextLink: null }];
    }
    if (method === 'PUT' && (second === undefined || second === '')) return [200, this.keys.bundle(await this.keys.importKey(name, body))];
    if (method === 'DELETE' && (second === undefined || second === '')) {
      const { version, deletedDate } = this.keys.delete(name);
      return [200, this.deletedBundle(name, version, deletedDate)];
    }
    if (method === 'GET' && third === undefined) return [200, this.keys.bundle(this.keys.get(name, second || undefined))];
    if (method === 'PATCH' && third === undefined) return [200, this.keys.bundle(this.keys.update(name, second || undefined, body))];
    if (method === 'POST' && second && CRYPTO_OPS.includes(third as CryptoOperation)) {
      const result = this.keys.crypto(name, second, third as CryptoOperation, body);
      return [200, { kid: result.kid, value: b64u(result.value), ...(result.iv ? { iv: b64u(result.iv) } : {}), ...(result.tag ? { tag: b64u(result.tag) } : {}) }];
    }
    throw new WireError(405, 'MethodNotAllowed', `${method} is not supported on this resource by the double`);
  }

  private deletedBundle(name: string, version: Parameters<KeyVaultDoubleKeys['bundle']>[0], deletedDate: number): Record<string, unknown> {
    return {
      ...this.keys.bundle(version),
      recoveryId: `${this.vaultUrl}/deletedkeys/${name}`,
      deletedDate,
      scheduledPurgeDate: deletedDate + 90 * 86400,
    };
  }
}

function faultMessage(code: string): string {
  if (code === 'Throttled') return 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached';
  return `The service answered ${code} (fault injected by the double)`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export { unixSeconds };
export type { DoubleClient };
