import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DevIssuer } from '@cmk/auth';
import { loadConfig } from '../../apps/control-plane/src/config/config';
import { RunningApp, startControlPlane } from '../../apps/control-plane/src/bootstrap';
import { freshSchemaName, testDatabaseUrl } from './postgres';

export interface TestControlPlane {
  running: RunningApp;
  url: string;
  issuer: DevIssuer;
  token(roles: string[], opts?: { subject?: string; tenants?: string[]; ttlSeconds?: number }): Promise<string>;
  /** fetch with JSON in and out; returns status, headers and parsed body. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A control plane on the real PostgreSQL, in fresh schemas, trusting a test issuer whose JWKS is served over
 * HTTP (so the remote-JWKS path is the one under test). `mode: 'embedded'` runs it on PGlite instead.
 */
export async function startTestControlPlane(opts: { mode?: 'postgres' | 'embedded'; env?: Record<string, string> } = {}): Promise<TestControlPlane> {
  const issuer = await DevIssuer.open({ issuer: 'urn:cmk:test-issuer', audience: 'openkcm-cmk' });
  const jwks: Server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  const es = freshSchemaName('es');
  const config = loadConfig({
    CMK_MODE: opts.mode ?? 'postgres',
    ...(opts.mode === 'embedded' ? { CMK_DATA_DIR: 'memory://' } : { CMK_DATABASE_URL: testDatabaseUrl() }),
    CMK_PORT: '0',
    CMK_EVENT_STORE_SCHEMA: es,
    CMK_READ_MODEL_SCHEMA: freshSchemaName('rm'),
    CMK_EVENT_STORE_APP_ROLE: `${es}_app`,
    CMK_AUTH_JWKS_URL: jwksUrl,
    CMK_AUTH_ISSUER: 'urn:cmk:test-issuer',
    CMK_LOG_LEVEL: process.env.CMK_TEST_LOG_LEVEL ?? 'silent',
    CMK_READ_WAIT_MS: '10000',
    ...opts.env,
  });
  const running = await startControlPlane(config);
  const token: TestControlPlane['token'] = (roles, o = {}) =>
    issuer.issue({ subject: o.subject ?? `user-${roles.join('+')}`, roles, tenants: o.tenants, ttlSeconds: o.ttlSeconds });
  return {
    running,
    url: running.url,
    issuer,
    token,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(running.url + path, { method, headers, body: o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, headers: res.headers, body };
    },
    async close() {
      await running.close();
      await new Promise<void>((r) => jwks.close(() => r()));
    },
  };
}
