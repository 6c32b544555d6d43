import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('defaults to embedded mode with the dev issuer', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ mode: 'embedded', port: 8080, host: '127.0.0.1', eventStoreSchema: 'cmk_events', auth: { devIssuer: true } });
  });

  it('switches to postgres when a database URL is given and then requires an IdP', () => {
    expect(() => loadConfig({ CMK_DATABASE_URL: 'postgres://u@h/db' })).toThrow(/CMK_AUTH_JWKS_URL/);
    const c = loadConfig({ CMK_DATABASE_URL: 'postgres://u@h/db', CMK_AUTH_JWKS_URL: 'https://idp.example/jwks', CMK_AUTH_ISSUER: 'https://idp.example' });
    expect(c).toMatchObject({ mode: 'postgres', auth: { devIssuer: false, jwksUrl: 'https://idp.example/jwks' } });
  });

  it.each([
    [{ CMK_PORT: 'eighty' }, 'CMK_PORT'],
    [{ CMK_PORT: '70000' }, 'CMK_PORT'],
    [{ CMK_MODE: 'cloud' }, 'CMK_MODE'],
    [{ CMK_MODE: 'postgres' }, 'CMK_DATABASE_URL'],
    [{ CMK_DATABASE_URL: 'mysql://x' }, 'CMK_DATABASE_URL'],
    [{ CMK_EVENT_STORE_SCHEMA: 'Drop Table' }, 'CMK_EVENT_STORE_SCHEMA'],
    [{ CMK_LOG_LEVEL: 'loud' }, 'CMK_LOG_LEVEL'],
    [{ CMK_AUTH_JWKS_URL: 'not a url' }, 'CMK_AUTH_JWKS_URL'],
    [{ CMK_READ_WAIT_MS: '-1' }, 'CMK_READ_WAIT_MS'],
  ])('refuses %j naming %s', (env, setting) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as ConfigError).message).toContain(setting);
  });
});
