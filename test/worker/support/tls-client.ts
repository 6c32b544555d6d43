import { request } from 'node:https';
import type { ApiResponse } from './worker-harness';

export interface TlsClientOptions {
  /** The CA that signed the worker's server certificate. */
  ca: string;
  /** A client certificate and key (mutual TLS); none: the request presents no certificate. */
  cert?: string;
  key?: string;
  token?: string;
}

/**
 * One HTTPS request with node's https client and a fresh connection (`agent: false`): no TLS session is resumed,
 * so every request is a full handshake with the certificate it names.
 */
export function httpsApi(baseUrl: string, path: string, options: TlsClientOptions, body?: unknown, method = 'POST'): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, baseUrl),
      {
        method,
        agent: false,
        ca: options.ca,
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON */
          }
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
