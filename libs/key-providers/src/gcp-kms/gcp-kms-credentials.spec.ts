import { generateKeyPairSync, verify } from 'node:crypto';
import { AccessDeniedError } from '../key-provider.errors';
import { accessTokenSource, CLOUD_KMS_AUDIENCE, parseServiceAccountKey } from './gcp-kms-credentials';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const saJson = JSON.stringify({ type: 'service_account', client_email: 'w@p.iam.gserviceaccount.com', private_key: pem, private_key_id: 'abc123' });

describe('Cloud KMS credentials', () => {
  it('signs a self-signed JWT for Cloud KMS with the service-account key, and reuses it until the refresh time', async () => {
    let now = 1_700_000_000_000;
    let reads = 0;
    const source = accessTokenSource({ serviceAccountKey: 'file:/sa.json' }, { resolve: async () => (reads++, saJson) }, 60_000, () => now);
    const token = await source.token();
    const [h, c, s] = token.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'abc123' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'w@p.iam.gserviceaccount.com',
      sub: 'w@p.iam.gserviceaccount.com',
      aud: CLOUD_KMS_AUDIENCE,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    expect(verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url'))).toBe(true);
    expect(await source.token()).toBe(token);
    now += 61_000;
    expect(await source.token()).not.toBe(token);
    expect(reads).toBe(2);
    source.invalidate();
    await source.token();
    expect(reads).toBe(3);
  });

  it('refuses unusable key files without quoting them', () => {
    for (const content of ['not json s3cr3t', JSON.stringify({ type: 'authorized_user', refresh_token: 's3cr3t' }), JSON.stringify({ type: 'service_account', client_email: 'a@b', private_key: 's3cr3t' })]) {
      let error: unknown;
      try {
        parseServiceAccountKey(content, 'file:/sa.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });

  it('refuses an access token that is not one printable word, and does not cache a failure', async () => {
    let value = 'two\nlines-token';
    const source = accessTokenSource({ accessToken: 'env:T' }, { resolve: async () => value }, 60_000);
    await expect(source.token()).rejects.toBeInstanceOf(AccessDeniedError);
    value = 'ya29.good-token-value';
    expect(await source.token()).toBe('ya29.good-token-value');
  });
});
