import pino from 'pino';
import type { Mesh } from '@cmk/mesh';
import { Pkcs11KeyProvider } from '@cmk/key-providers/pkcs11';
import { CreatedTestKey, Pkcs11TestKeys } from '@cmk/key-providers/pkcs11/testing';
import type { KeyLinkView, TenantView } from '@cmk/orbital';
import { applySoftHsmEnv, initSoftHsm, SoftHsm } from '@cmk/testing/softhsm';
import { RegionalWorker, RegionalWorkerOptions } from '../../../apps/regional-worker/src/regional-worker';
import type { EndOffsets } from '../../../apps/regional-worker/src/view/end-offsets';
import { WorkloadIssuer } from './workload-issuer';

/** A real SoftHSM2 token holding tenants' L1 keys, and providers on it (one per simulated region). */
export class TestHsm {
  private readonly providers: Pkcs11KeyProvider[] = [];

  private constructor(
    readonly hsm: SoftHsm,
    readonly admin: Pkcs11TestKeys,
  ) {}

  /** Fails (never skips) when SoftHSM2 cannot be set up. Call before any provider in this file initialises. */
  static async create(): Promise<TestHsm> {
    const hsm = initSoftHsm();
    await applySoftHsmEnv(hsm.env);
    return new TestHsm(hsm, new Pkcs11TestKeys({ modulePath: hsm.modulePath, tokenLabel: hsm.tokenLabel, pin: hsm.pin }));
  }

  l1Key(label: string): CreatedTestKey {
    return this.admin.createAesKey({ label });
  }

  provider(): Pkcs11KeyProvider {
    const provider = new Pkcs11KeyProvider({ modulePath: this.hsm.modulePath, tokenLabel: this.hsm.tokenLabel, pin: 'env:CMK_PKCS11_PIN' });
    this.providers.push(provider);
    return provider;
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.close()));
    this.admin.close();
    this.hsm.destroy();
  }
}

export function keyLink(keyLinkId: string, keyReference: string, status: KeyLinkView['status'] = 'active'): KeyLinkView {
  return { keyLinkId, status, providerKind: 'pkcs11', mode: 'HYOK', keyReference, algorithm: 'AES', keySize: 256, providerRegion: 'eu-central-1' };
}

/** A tenant with one system per key link (`sys-<link>`), served everywhere unless `allowedRegions` says otherwise. */
export function tenantView(tenantId: string, links: KeyLinkView[], over: Partial<TenantView> = {}): TenantView {
  return {
    tenantId,
    status: 'active',
    jurisdiction: 'EU',
    homeRegion: 'eu-central-1',
    allowedRegions: null,
    maxStalenessMs: 2000,
    systems: Object.fromEntries(links.map((l) => [`sys-${l.keyLinkId}`, { systemId: `sys-${l.keyLinkId}`, keyLinkId: l.keyLinkId, region: 'eu-central-1' }])),
    keyLinks: Object.fromEntries(links.map((l) => [l.keyLinkId, l])),
    ...over,
  };
}

export type WorkerSetup = Pick<RegionalWorkerOptions, 'mesh' | 'endOffsets' | 'region' | 'workerId'> &
  Partial<RegionalWorkerOptions> & { mesh: Mesh; endOffsets: EndOffsets; issuer: WorkloadIssuer; provider: Pkcs11KeyProvider };

export function createWorker(setup: WorkerSetup): RegionalWorker {
  const { issuer, provider, ...options } = setup;
  return new RegionalWorker({
    providers: [provider],
    verifier: issuer.verifier(),
    logger: pino({ level: process.env.CMK_TEST_LOG_LEVEL ?? 'silent' }),
    port: 0,
    ...options,
  });
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function api(worker: RegionalWorker, path: string, token?: string, body?: unknown, method = 'POST'): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(worker.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON (metrics) */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls until `check` returns a truthy value (returned) or the time is up (the last error is thrown). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = new Error('condition not met');
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
