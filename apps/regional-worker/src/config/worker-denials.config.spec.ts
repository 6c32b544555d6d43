import { loadWorkerConfig, WorkerConfigError } from './worker.config';

const base = {
  CMK_WORKER_ID: 'worker-eu-1',
  CMK_WORKER_REGION: 'eu-central-1',
  CMK_MESH_BROKERS: 'kafka-1:9092',
  CMK_AUTH_ISSUER: 'https://idp.example',
  CMK_AUTH_JWKS_URL: 'https://idp.example/jwks.json',
};

describe('loadWorkerConfig: access-denial records', () => {
  it('keeps 100 denials per tenant and reason and window by default, and one minute windows', () => {
    expect(loadWorkerConfig(base)).toMatchObject({ denialDetailLimit: 100, usageIntervalMs: 60_000 });
    expect(loadWorkerConfig({ ...base, CMK_WORKER_DENIAL_DETAIL_LIMIT: '0' }).denialDetailLimit).toBe(0);
    expect(loadWorkerConfig({ ...base, CMK_WORKER_DENIAL_DETAIL_LIMIT: '2500' }).denialDetailLimit).toBe(2500);
  });

  it.each(['-1', '10001', '1.5', 'many'])('refuses CMK_WORKER_DENIAL_DETAIL_LIMIT=%s, naming it', (value) => {
    const env = { ...base, CMK_WORKER_DENIAL_DETAIL_LIMIT: value };
    expect(() => loadWorkerConfig(env)).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig(env)).toThrow(`CMK_WORKER_DENIAL_DETAIL_LIMIT must be an integer between 0 and 10000 (got "${value}")`);
  });
});
