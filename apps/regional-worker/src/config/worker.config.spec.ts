import { loadWorkerConfig, WorkerConfigError } from './worker.config';

const base = {
  CMK_WORKER_ID: 'worker-eu-1',
  CMK_WORKER_REGION: 'eu-central-1',
  CMK_MESH_BROKERS: 'kafka-1:9092, kafka-2:9092',
  CMK_AUTH_ISSUER: 'https://idp.example',
  CMK_AUTH_JWKS_URL: 'https://idp.example/jwks.json',
};

describe('loadWorkerConfig', () => {
  it('reads a complete configuration with defaults', () => {
    // toMatchObject: settings other features add are checked by their own specs.
    expect(loadWorkerConfig(base)).toMatchObject({
      workerId: 'worker-eu-1',
      region: 'eu-central-1',
      host: '0.0.0.0',
      port: 8090,
      mesh: { brokers: ['kafka-1:9092', 'kafka-2:9092'], topicPrefix: '' },
      keyProvider: 'pkcs11',
      usageIntervalMs: 60_000,
      statusIntervalMs: 10_000,
      l2CacheSize: 10_000,
      tenantKeyRegistrationTimeoutMs: 10_000,
      auth: {
        issuers: [
          {
            issuer: 'https://idp.example',
            jwksUrl: 'https://idp.example/jwks.json',
            audience: 'openkcm-cmk-worker',
            tenantClaim: 'cmk_tenant',
            workload: { systemClaim: 'cmk_system' },
            clockToleranceSeconds: 30,
          },
        ],
      },
      logLevel: 'info',
    });
  });

  it.each([
    [{ CMK_WORKER_REGION: undefined }, 'CMK_WORKER_REGION is required'],
    [{ CMK_WORKER_REGION: 'EU Central' }, 'CMK_WORKER_REGION must be a lower-case region name'],
    [{ CMK_WORKER_ID: '' }, 'CMK_WORKER_ID is required'],
    [{ CMK_WORKER_TENANT_KEY_TIMEOUT_MS: '50' }, 'CMK_WORKER_TENANT_KEY_TIMEOUT_MS must be an integer between 100 and 120000'],
    [{ CMK_MESH_BROKERS: ' ' }, 'CMK_MESH_BROKERS is required'],
    [{ CMK_MESH_BROKERS: 'kafka' }, 'CMK_MESH_BROKERS has an entry that is not host:port'],
    [{ CMK_WORKER_PORT: '70000' }, 'CMK_WORKER_PORT must be an integer between 0 and 65535'],
    [{ CMK_WORKER_USAGE_INTERVAL_MS: '10' }, 'CMK_WORKER_USAGE_INTERVAL_MS must be an integer between 100'],
    [{ CMK_WORKER_KEY_PROVIDER: 'aws-kms' }, 'CMK_WORKER_KEY_PROVIDER must be pkcs11'],
    [{ CMK_AUTH_JWKS_URL: 'ftp://x' }, 'CMK_AUTH_JWKS_URL must use http: or https:'],
    [{ CMK_AUTH_ISSUER: undefined }, 'CMK_AUTH_ISSUER is required (or CMK_AUTH_ISSUERS for several issuers)'],
    [{ CMK_WORKER_SYSTEM_CLAIM: 'a b' }, 'CMK_WORKER_SYSTEM_CLAIM must be a claim name'],
    [{ CMK_LOG_LEVEL: 'loud' }, 'CMK_LOG_LEVEL must be a pino level'],
  ])('names the bad setting: %j', (change, message) => {
    const env = { ...base, ...change };
    expect(() => loadWorkerConfig(env)).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig(env)).toThrow(message);
  });
});
