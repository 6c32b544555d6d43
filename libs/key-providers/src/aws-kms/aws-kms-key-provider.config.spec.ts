import { InvalidProviderConfigError } from '../key-provider.errors';
import { awsKmsConfigFromEnv, validateAwsKmsConfig } from './aws-kms-key-provider.config';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function refusal(run: () => unknown): InvalidProviderConfigError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidProviderConfigError);
    expect((e as Error).message).not.toContain(SECRET);
    return e as InvalidProviderConfigError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('AWS KMS provider configuration (unit)', () => {
  it('applies defaults', () => {
    expect(validateAwsKmsConfig({ region: 'eu-central-1' })).toMatchObject({
      maxAttempts: 3,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 2000,
      connectTimeoutMs: 3000,
      requestTimeoutMs: 10000,
      maxSockets: 50,
      credentialRefreshMs: 300000,
    });
  });

  it('names the bad setting and never echoes a secret given where a reference belongs', () => {
    expect(refusal(() => validateAwsKmsConfig({ region: 'Frankfurt' })).setting).toBe('CMK_AWS_KMS_REGION');
    expect(refusal(() => validateAwsKmsConfig({ region: 'eu-central-1', endpoint: `http://AKIA:${SECRET}@localhost:4599` })).setting).toBe('CMK_AWS_KMS_ENDPOINT');
    expect(refusal(() => validateAwsKmsConfig({ region: 'eu-central-1', credentials: { accessKeyId: 'env:ID', secretAccessKey: SECRET } })).setting).toBe(
      'CMK_AWS_KMS_SECRET_ACCESS_KEY_REF',
    );
    expect(refusal(() => validateAwsKmsConfig({ region: 'eu-central-1', maxAttempts: 0 })).setting).toBe('CMK_AWS_KMS_MAX_ATTEMPTS');
    expect(refusal(() => validateAwsKmsConfig({ region: 'eu-central-1', retryBaseDelayMs: 500, retryMaxDelayMs: 100 })).setting).toBe('CMK_AWS_KMS_RETRY_MAX_DELAY_MS');
    expect(refusal(() => validateAwsKmsConfig({ region: 'eu-central-1', requestTimeoutMs: -1 })).setting).toBe('CMK_AWS_KMS_REQUEST_TIMEOUT_MS');
  });

  it('reads the environment: both credential references or neither (the default AWS chain)', () => {
    expect(
      awsKmsConfigFromEnv({
        CMK_AWS_KMS_REGION: 'eu-west-1',
        CMK_AWS_KMS_ENDPOINT: 'http://127.0.0.1:4599',
        CMK_AWS_KMS_ACCESS_KEY_ID_REF: 'env:AWS_KEY_ID',
        CMK_AWS_KMS_SECRET_ACCESS_KEY_REF: 'file:/run/secrets/aws-secret',
        CMK_AWS_KMS_MAX_ATTEMPTS: '5',
      }),
    ).toMatchObject({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4599',
      credentials: { accessKeyId: 'env:AWS_KEY_ID', secretAccessKey: 'file:/run/secrets/aws-secret' },
      maxAttempts: 5,
    });
    expect(awsKmsConfigFromEnv({ CMK_AWS_KMS_REGION: 'eu-west-1' }).credentials).toBeUndefined();
    expect(refusal(() => awsKmsConfigFromEnv({ CMK_AWS_KMS_REGION: 'eu-west-1', CMK_AWS_KMS_ACCESS_KEY_ID_REF: 'env:X' })).setting).toBe(
      'CMK_AWS_KMS_SECRET_ACCESS_KEY_REF',
    );
  });
});
