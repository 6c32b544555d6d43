import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DevIssuer } from '@cmk/auth';
import { loadConfig } from '../../apps/control-plane/src/config/config';
import { RunningApp, startControlPlane } from '../../apps/control-plane/src/bootstrap';
import { Pkcs11TestKeys } from '@cmk/key-providers/pkcs11/testing';
import { freshSchemaName, testDatabaseUrl } from './postgres';
import { applySoftHsmEnv, initSoftHsm, SoftHsm } from './softhsm';

/** The token and key the fixtures link (`pkcs11:token=acme;object=root-2026`). */
export const TEST_HSM_TOKEN = 'acme';
export const TEST_HSM_KEY = 'root-2026';

export interface TestHsm {
  hsm: SoftHsm;
  /** Creates, disables and destroys keys in the token, as the customer's HSM administrator would. */
  keys: Pkcs11TestKeys;
}

let hsmShared: { ready: Promise<TestHsm>; users: number } | undefined;

/**
 * One real SoftHSM2 token per test file, shared by every control plane the file starts: the PKCS#11 module reads
 * its configuration once per process, so one token directory is all a process can see at a time. Released (the
 * module finalised, the directory removed) when the last control plane of the file closes.
 */
function acquireTestHsm(): Promise<TestHsm> {
  if (!hsmShared) {
    const ready = (async () => {
      const hsm = initSoftHsm({ label: TEST_HSM_TOKEN });
      await applySoftHsmEnv(hsm.env);
      const keys = new Pkcs11TestKeys({ modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: hsm.pin });
      keys.createAesKey({ label: TEST_HSM_KEY });
      return { hsm, keys };
    })();
    hsmShared = { ready, users: 0 };
  }
  hsmShared.users++;
  return hsmShared.ready;
}

async function releaseTestHsm(): Promise<void> {
  if (!hsmShared || --hsmShared.users > 0) return;
  const { ready } = hsmShared;
  hsmShared = undefined;
  const { hsm, keys } = await ready;
  keys.close();
  hsm.destroy();
}

export interface TestControlPlane {
  running: RunningApp;
  url: string;
  issuer: DevIssuer;
  /** The SoftHSM2 token the control plane's pkcs11 provider reaches. */
  hsm: TestHsm;
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
export async function startTestControlPlane(
  opts: {
    mode?: 'postgres' | 'embedded';
    env?: Record<string, string>;
    /** azure-keyvault provider settings, next to the pkcs11 token */
    azure?: Record<string, unknown>;
    /** Sign audit checkpoints with an Ed25519 key in the test token (else a key in memory). */
    auditKeyInHsm?: boolean;
  } = {},
): Promise<TestControlPlane> {
  const issuer = await DevIssuer.open({ issuer: 'urn:cmk:test-issuer', audience: 'openkcm-cmk' });
  const jwks: Server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  const hsm = await acquireTestHsm();
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
    CMK_KEY_PROVIDERS: JSON.stringify({
      pkcs11: { modulePath: hsm.hsm.modulePath, tokenLabel: hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' },
      ...(opts.azure ? { 'azure-keyvault': opts.azure } : {}),
    }),
    CMK_KEY_HEALTH_SYNC_INTERVAL_MS: '0',
    CMK_ROTATION_INTERVAL_MS: '0',
    CMK_AUDIT_SEAL_INTERVAL_MS: '0',
    CMK_APPROVAL_SWEEP_INTERVAL_MS: '0',
    ...(opts.auditKeyInHsm
      ? {
          CMK_AUDIT_SIGNER: 'pkcs11',
          CMK_AUDIT_PKCS11: JSON.stringify({ modulePath: hsm.hsm.modulePath, tokenLabel: hsm.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN', keyLabel: 'cmk-audit-signing', createIfMissing: true }),
        }
      : { CMK_AUDIT_SIGNER: 'memory' }),
    ...opts.env,
  });
  let running: RunningApp;
  try {
    running = await startControlPlane(config);
  } catch (error) {
    await releaseTestHsm();
    throw error;
  }
  const token: TestControlPlane['token'] = (roles, o = {}) =>
    issuer.issue({ subject: o.subject ?? `user-${roles.join('+')}`, roles, tenants: o.tenants, ttlSeconds: o.ttlSeconds });
  return {
    running,
    url: running.url,
    issuer,
    hsm,
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
      await releaseTestHsm();
    },
  };
}
