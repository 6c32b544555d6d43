import { loadWorkerConfig, WorkerConfigError } from './worker.config';

const base = { CMK_WORKER_ID: 'worker-eu-1', CMK_WORKER_REGION: 'eu-central-1', CMK_MESH_BROKERS: 'kafka-1:9092' };
const issuers = (value: unknown) => ({ ...base, CMK_AUTH_ISSUERS: JSON.stringify(value) });

function refusal(env: Record<string, string | undefined>): string {
  try {
    loadWorkerConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('worker configuration: trusted issuers (CMK_AUTH_ISSUERS, parsed by @cmk/auth as in the control plane)', () => {
  it('reads several issuers, each with its own claims; the system claim defaults to cmk_system', () => {
    const config = loadWorkerConfig(
      issuers([
        { issuer: 'https://login.example.com', audience: 'openkcm-cmk-worker', tenantClaim: 'org.tenant', workload: { systemClaim: 'azp', systems: { 'billing-svc': 'sys-billing' } } },
        { issuer: 'http://127.0.0.1:9000', jwksUrl: 'http://127.0.0.1:9000/jwks', audience: ['urn:worker', 'urn:legacy'], clockToleranceSeconds: 0 },
      ]),
    );
    expect(config.auth.issuers).toEqual([
      { issuer: 'https://login.example.com', audience: 'openkcm-cmk-worker', tenantClaim: 'org.tenant', workload: { systemClaim: 'azp', systems: { 'billing-svc': 'sys-billing' } } },
      { issuer: 'http://127.0.0.1:9000', jwksUrl: 'http://127.0.0.1:9000/jwks', audience: ['urn:worker', 'urn:legacy'], clockToleranceSeconds: 0, workload: { systemClaim: 'cmk_system' } },
    ]);
  });

  it.each([
    ['not json', 'Invalid configuration: CMK_AUTH_ISSUERS is not valid JSON'],
    [JSON.stringify([]), 'Invalid configuration: CMK_AUTH_ISSUERS must be a non-empty JSON array'],
    [JSON.stringify([{ issuer: 'https://a.example' }]), 'Invalid configuration: CMK_AUTH_ISSUERS[0].audience must be a non-empty string'],
    [JSON.stringify([{ issuer: 'http://idp.example', audience: 'w' }]), 'Invalid configuration: CMK_AUTH_ISSUERS[0].issuer must be an https URL'],
    [JSON.stringify([{ issuer: 'https://a.example', audience: 'w', workload: { systemClaim: 'x', sistems: {} } }]), 'Invalid configuration: CMK_AUTH_ISSUERS[0].workload.sistems is not a known field'],
    [JSON.stringify([{ issuer: 'https://a.example', audience: 'w' }, { issuer: 'https://a.example', audience: 'v' }]), 'Invalid configuration: CMK_AUTH_ISSUERS[1].issuer repeats CMK_AUTH_ISSUERS[0].issuer'],
  ])('names the field at fault: %s', (value, message) => {
    expect(refusal({ ...base, CMK_AUTH_ISSUERS: value })).toContain(message);
  });

  it.each(['CMK_AUTH_ISSUER', 'CMK_AUTH_JWKS_URL', 'CMK_WORKER_AUTH_AUDIENCE', 'CMK_WORKER_TENANT_CLAIM', 'CMK_WORKER_SYSTEM_CLAIM', 'CMK_AUTH_CLOCK_TOLERANCE_SECONDS'])(
    'refuses %s next to CMK_AUTH_ISSUERS: one of them would be ignored',
    (name) => {
      expect(refusal({ ...issuers([{ issuer: 'https://a.example', audience: 'w' }]), [name]: 'x' })).toContain(`Invalid configuration: ${name} cannot be combined with CMK_AUTH_ISSUERS`);
    },
  );

  it('keeps CMK_AUTH_ISSUER as the single-issuer shorthand, with its own claim and audience settings', () => {
    const config = loadWorkerConfig({
      ...base,
      CMK_AUTH_ISSUERS: '',
      CMK_AUTH_ISSUER: 'urn:idp',
      CMK_AUTH_JWKS_URL: 'http://idp.internal/jwks',
      CMK_WORKER_AUTH_AUDIENCE: 'urn:worker',
      CMK_WORKER_TENANT_CLAIM: 'tid',
      CMK_WORKER_SYSTEM_CLAIM: 'sys',
      CMK_AUTH_CLOCK_TOLERANCE_SECONDS: '5',
    });
    expect(config.auth.issuers).toEqual([{ issuer: 'urn:idp', jwksUrl: 'http://idp.internal/jwks', audience: 'urn:worker', tenantClaim: 'tid', workload: { systemClaim: 'sys' }, clockToleranceSeconds: 5 }]);
  });
});

describe('worker configuration: HTTPS and mutual TLS', () => {
  const single = { ...base, CMK_AUTH_ISSUER: 'urn:idp', CMK_AUTH_JWKS_URL: 'http://idp.internal/jwks' };

  it('serves plain HTTP when no TLS setting is given', () => {
    expect(loadWorkerConfig(single).tls).toBeUndefined();
  });

  it('reads the certificate, key, client CA and trust domain', () => {
    const config = loadWorkerConfig({ ...single, CMK_WORKER_TLS_CERT: '/etc/cmk/tls.crt', CMK_WORKER_TLS_KEY: '/etc/cmk/tls.key' });
    expect(config.tls).toEqual({ certFile: '/etc/cmk/tls.crt', keyFile: '/etc/cmk/tls.key' });
    const mtls = loadWorkerConfig({ ...single, CMK_WORKER_TLS_CERT: '/c', CMK_WORKER_TLS_KEY: '/k', CMK_WORKER_TLS_CLIENT_CA: '/ca', CMK_WORKER_MTLS_TRUST_DOMAIN: 'cmk.example.org' });
    expect(mtls.tls).toEqual({ certFile: '/c', keyFile: '/k', clientAuth: { caFile: '/ca', trustDomain: 'cmk.example.org' } });
  });

  it.each([
    [{ CMK_WORKER_TLS_CERT: '/c' }, 'CMK_WORKER_TLS_KEY is required when CMK_WORKER_TLS_CERT is set'],
    [{ CMK_WORKER_TLS_KEY: '/k' }, 'CMK_WORKER_TLS_CERT is required when CMK_WORKER_TLS_KEY is set'],
    [{ CMK_WORKER_TLS_CLIENT_CA: '/ca' }, 'CMK_WORKER_TLS_CLIENT_CA needs HTTPS'],
    [{ CMK_WORKER_MTLS_TRUST_DOMAIN: 'cmk.example.org' }, 'CMK_WORKER_MTLS_TRUST_DOMAIN needs mutual TLS'],
    [{ CMK_WORKER_TLS_CERT: '/c', CMK_WORKER_TLS_KEY: '/k', CMK_WORKER_TLS_CLIENT_CA: '/ca' }, 'CMK_WORKER_MTLS_TRUST_DOMAIN is required when CMK_WORKER_TLS_CLIENT_CA is set'],
    [{ CMK_WORKER_TLS_CERT: '/c', CMK_WORKER_TLS_KEY: '/k', CMK_WORKER_MTLS_TRUST_DOMAIN: 'cmk.example.org' }, 'CMK_WORKER_MTLS_TRUST_DOMAIN needs CMK_WORKER_TLS_CLIENT_CA'],
    [{ CMK_WORKER_TLS_CERT: '/c', CMK_WORKER_TLS_KEY: '/k', CMK_WORKER_TLS_CLIENT_CA: '/ca', CMK_WORKER_MTLS_TRUST_DOMAIN: 'CMK.Example/x' }, 'CMK_WORKER_MTLS_TRUST_DOMAIN must be a SPIFFE trust domain'],
  ])('names the setting at fault: %j', (change, message) => {
    expect(refusal({ ...single, ...change })).toContain(`Invalid configuration: ${message}`);
  });
});
