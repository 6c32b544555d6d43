import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AccessOperation, WorkerAuthRefusal } from '@cmk/orbital';
import type { KeyService, WorkloadIdentity } from '../crypto/key-service';
import type { WorkerMetrics } from '../observability/worker-metrics';
import { BadRequestError } from '../worker.errors';
import { PROBLEM_BASE, toProblem, WorkerProblem } from './problem';
import { Unauthenticated, type WorkloadAuthenticator } from './workload-auth';
import { createWorkerServer, presentedCertificate, WorkerTlsOptions } from './worker-tls';

export interface WorkerHttpDeps {
  auth: WorkloadAuthenticator;
  keys: KeyService;
  metrics: WorkerMetrics;
  log: Logger;
  /** Readiness and its reasons, for /health/ready. */
  readiness(): { ready: boolean; details: Record<string, unknown> };
  /** Called once per authenticated data-key request with its final outcome. */
  onOutcome(identity: WorkloadIdentity, operation: AccessOperation, allowed: boolean): void;
  /** Called once per data-key request refused before an identity was verified (recorded as an access denial). */
  onUnauthenticated(operation: AccessOperation, refusal: WorkerAuthRefusal): void;
  /** HTTPS (and optionally mutual TLS); plain HTTP without it. */
  tls?: WorkerTlsOptions;
}

const MAX_BODY_BYTES = 64 * 1024;
const MAX_WRAP_BYTES = 4096;
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Operation = (identity: WorkloadIdentity, body: Record<string, unknown>) => Promise<Record<string, string>>;

/**
 * The worker's HTTP API on node:http: four routes on the hot path need no framework, and several workers must
 * fit in one process. Errors are problem+json with a reason code; plaintext responses are never cached.
 */
export function createWorkerHttpServer(deps: WorkerHttpDeps): Server {
  const operations: Record<string, [AccessOperation, Operation]> = {
    '/v1/data-keys': ['generate-data-key', async (identity, body) => {
      const bytes = body.numberOfBytes ?? 32;
      if (!Number.isInteger(bytes) || (bytes as number) < 16 || (bytes as number) > 64) throw new BadRequestError('numberOfBytes must be an integer from 16 to 64');
      const { keyLinkId, plaintext, blob } = await deps.keys.generateDataKey(identity, bytes as number);
      return withZeroised(plaintext, { keyLinkId, plaintext: plaintext.toString('base64'), ciphertextBlob: blob.toString('base64') });
    }],
    '/v1/wrap': ['wrap', async (identity, body) => {
      const plaintext = base64Field(body, 'plaintext', MAX_WRAP_BYTES);
      try {
        const { keyLinkId, blob } = await deps.keys.wrap(identity, plaintext);
        return { keyLinkId, ciphertextBlob: blob.toString('base64') };
      } finally {
        plaintext.fill(0);
      }
    }],
    '/v1/unwrap': ['unwrap', async (identity, body) => {
      const { keyLinkId, plaintext } = await deps.keys.unwrap(identity, base64Field(body, 'ciphertextBlob', MAX_BODY_BYTES));
      return withZeroised(plaintext, { keyLinkId, plaintext: plaintext.toString('base64') });
    }],
  };

  return createWorkerServer((req, res) => {
    const incoming = req.headers['x-correlation-id'];
    const correlationId = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Correlation-Id', correlationId);
    const path = (req.url ?? '/').split('?')[0];
    const started = process.hrtime.bigint();
    const route = operations[path] ? path : ['/health/live', '/health/ready', '/metrics'].includes(path) ? path : 'other';
    res.on('finish', () => deps.metrics.requests.inc({ route, status: String(res.statusCode) }));
    const operation = operations[path];
    let identity: WorkloadIdentity | undefined;
    const handle = async (): Promise<void> => {
      if (operation) {
        if (req.method !== 'POST') return problem(res, correlationId, 405, 'method-not-allowed', 'Use POST', { Allow: 'POST' });
        identity = await deps.auth.authenticate({ authorization: req.headers.authorization, certificate: presentedCertificate(req.socket) });
        const body = await readJson(req);
        try {
          const result = await operation[1](identity, body);
          deps.onOutcome(identity, operation[0], true);
          return send(res, 200, 'application/json', JSON.stringify(result), { 'Cache-Control': 'no-store' });
        } catch (error) {
          deps.onOutcome(identity, operation[0], false);
          throw error;
        }
      }
      if (req.method !== 'GET') return problem(res, correlationId, 404, 'not-found', 'No such resource');
      if (path === '/health/live') return send(res, 200, 'application/json', '{"status":"ok"}');
      if (path === '/health/ready') {
        const { ready, details } = deps.readiness();
        return send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not-ready', ...details }));
      }
      if (path === '/metrics') return send(res, 200, deps.metrics.registry.contentType, await deps.metrics.registry.metrics());
      return problem(res, correlationId, 404, 'not-found', 'No such resource');
    };
    handle().catch((error: unknown) => {
      if (operation && error instanceof Unauthenticated) deps.onUnauthenticated(operation[0], error.code);
      const mapped = toProblem(error);
      const context = { correlationId, path, status: mapped.problem.status, reason: mapped.problem.reason, subject: identity?.subject, tenantId: identity?.tenantId, systemId: identity?.systemId };
      if (mapped.fault) deps.log.error({ ...context, err: describeError(error) }, 'request failed');
      else deps.log.info(context, 'request refused');
      if (res.headersSent) return res.destroy();
      sendProblem(res, { ...mapped.problem, correlationId }, mapped.headers);
    }).finally(() => {
      if (identity && res.statusCode < 400) deps.log.debug({ correlationId, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, subject: identity.subject, tenantId: identity.tenantId, systemId: identity.systemId }, 'http');
    });
  }, deps.tls);
}

/** Serialises the response, then zeroises the plaintext buffer (the JSON string itself cannot be wiped). */
function withZeroised(plaintext: Buffer, result: Record<string, string>): Record<string, string> {
  plaintext.fill(0);
  return result;
}

function base64Field(body: Record<string, unknown>, name: string, maxBytes: number): Buffer {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new BadRequestError(`${name} must be a non-empty standard base64 string`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > maxBytes) throw new BadRequestError(`${name} must be at most ${maxBytes} bytes`);
  return bytes;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError(`the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError('the body is not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function problem(res: ServerResponse, correlationId: string, status: number, reason: string, title: string, headers: Record<string, string> = {}): void {
  sendProblem(res, { type: PROBLEM_BASE + reason, title, status, reason, correlationId }, headers);
}

function sendProblem(res: ServerResponse, body: WorkerProblem, headers: Record<string, string>): void {
  send(res, body.status, 'application/problem+json', JSON.stringify(body), headers);
}

/** Error name and message only: never a stack with arguments, never a provider's raw text. */
function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
}
