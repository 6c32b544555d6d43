import { InvalidProviderConfigError } from '../key-provider.errors';
import { gcpKmsConfigFromEnv, validateGcpKmsConfig } from './gcp-kms-key-provider.config';

const base = { project: 'acme-prod', location: 'europe-west3' };

function settingOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidProviderConfigError);
    return (e as InvalidProviderConfigError).setting;
  }
  return undefined;
}

describe('Cloud KMS provider configuration', () => {
  it('fills defaults: TLS on port 443, 3 attempts, bounded back-off and deadlines', () => {
    expect(validateGcpKmsConfig(base)).toMatchObject({ port: 443, insecure: false, maxAttempts: 3, retryBaseDelayMs: 100, retryMaxDelayMs: 2_000, requestTimeoutMs: 10_000 });
  });

  it.each([
    [{ ...base, project: 'A' }, 'CMK_GCP_KMS_PROJECT'],
    [{ ...base, location: 'Europe West' }, 'CMK_GCP_KMS_LOCATION'],
    [{ ...base, apiEndpoint: 'https://kms.example:443' }, 'CMK_GCP_KMS_API_ENDPOINT'],
    [{ ...base, port: 70_000 }, 'CMK_GCP_KMS_PORT'],
    [{ ...base, apiEndpoint: 'kms.example', insecure: true, credentials: { accessToken: 'env:T' } }, 'CMK_GCP_KMS_INSECURE'],
    [{ ...base, apiEndpoint: '127.0.0.1', insecure: true }, 'CMK_GCP_KMS_CREDENTIALS'],
    [{ ...base, credentials: { accessToken: 'env:T', serviceAccountKey: 'file:/k.json' } as never }, 'CMK_GCP_KMS_CREDENTIALS'],
    [{ ...base, credentials: { serviceAccountKey: 'relative/key.json' } }, 'CMK_GCP_KMS_SERVICE_ACCOUNT_KEY_REF'],
    [{ ...base, credentials: { accessToken: 'ya29.a-pasted-token' } }, 'CMK_GCP_KMS_ACCESS_TOKEN_REF'],
    [{ ...base, maxAttempts: 0 }, 'CMK_GCP_KMS_MAX_ATTEMPTS'],
    [{ ...base, retryBaseDelayMs: 500, retryMaxDelayMs: 100 }, 'CMK_GCP_KMS_RETRY_MAX_DELAY_MS'],
    [{ ...base, requestTimeoutMs: -1 }, 'CMK_GCP_KMS_REQUEST_TIMEOUT_MS'],
  ])('refuses %j naming %s', (config, setting) => {
    expect(settingOf(() => validateGcpKmsConfig(config))).toBe(setting);
  });

  it('never echoes a pasted secret', () => {
    try {
      validateGcpKmsConfig({ ...base, credentials: { accessToken: 'ya29.a-pasted-token' } });
    } catch (e) {
      expect((e as Error).message).not.toContain('ya29');
    }
  });

  it('reads the environment', () => {
    const config = gcpKmsConfigFromEnv({
      CMK_GCP_KMS_PROJECT: 'acme-prod',
      CMK_GCP_KMS_LOCATION: 'global',
      CMK_GCP_KMS_API_ENDPOINT: 'localhost',
      CMK_GCP_KMS_PORT: '8443',
      CMK_GCP_KMS_INSECURE: 'true',
      CMK_GCP_KMS_SERVICE_ACCOUNT_KEY_REF: 'file:/run/secrets/kms.json',
      CMK_GCP_KMS_MAX_ATTEMPTS: '5',
    });
    expect(config).toMatchObject({ location: 'global', port: 8443, insecure: true, maxAttempts: 5, credentials: { serviceAccountKey: 'file:/run/secrets/kms.json' } });
    expect(settingOf(() => gcpKmsConfigFromEnv({ ...base, CMK_GCP_KMS_PROJECT: 'acme-prod', CMK_GCP_KMS_LOCATION: 'eu', CMK_GCP_KMS_INSECURE: 'yes' }))).toBe('CMK_GCP_KMS_INSECURE');
  });
});
