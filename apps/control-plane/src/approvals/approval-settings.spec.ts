import { ConfigError, loadConfig } from '../config/config';

const BASE = { CMK_MODE: 'embedded', CMK_DATA_DIR: 'memory://' };

describe('approval settings (validated at start-up, naming the setting)', () => {
  it('sweeps every minute by default, and not at all with 0; no webhook unless a URL is set', () => {
    expect(loadConfig(BASE).approvals).toEqual({ sweepIntervalMs: 60_000 });
    expect(loadConfig({ ...BASE, CMK_APPROVAL_SWEEP_INTERVAL_MS: '0' }).approvals.sweepIntervalMs).toBe(0);
  });

  it('takes a webhook URL with a secret reference, never a secret value', () => {
    const config = loadConfig({ ...BASE, CMK_APPROVAL_WEBHOOK_URL: 'https://hooks.example/cmk', CMK_APPROVAL_WEBHOOK_SECRET: 'env:HOOK_SECRET' });
    expect(config.approvals.webhook).toEqual({ url: 'https://hooks.example/cmk', secretRef: 'env:HOOK_SECRET', maxBackoffMs: 300_000, timeoutMs: 10_000 });
  });

  it.each([
    [{ CMK_APPROVAL_SWEEP_INTERVAL_MS: 'soon' }, 'CMK_APPROVAL_SWEEP_INTERVAL_MS'],
    [{ CMK_APPROVAL_WEBHOOK_URL: 'ftp://hooks.example' }, 'CMK_APPROVAL_WEBHOOK_URL'],
    [{ CMK_APPROVAL_WEBHOOK_URL: 'https://hooks.example/cmk' }, 'CMK_APPROVAL_WEBHOOK_SECRET'],
    [{ CMK_APPROVAL_WEBHOOK_SECRET: 'env:X' }, 'CMK_APPROVAL_WEBHOOK_SECRET'],
    [{ CMK_APPROVAL_WEBHOOK_URL: 'https://hooks.example/cmk', CMK_APPROVAL_WEBHOOK_SECRET: 's3cr3t-value' }, 'CMK_APPROVAL_WEBHOOK_SECRET'],
    [{ CMK_APPROVAL_WEBHOOK_URL: 'https://hooks.example/cmk', CMK_APPROVAL_WEBHOOK_SECRET: 'env:X', CMK_APPROVAL_WEBHOOK_MAX_BACKOFF_MS: '-1' }, 'CMK_APPROVAL_WEBHOOK_MAX_BACKOFF_MS'],
  ])('refuses %j naming %s', (env, setting) => {
    let error: unknown;
    try {
      loadConfig({ ...BASE, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(setting);
    expect((error as Error).message).not.toContain('s3cr3t-value');
  });
});
