import { ConfigError, loadConfig } from './config/config';
import { logger, startControlPlane } from './bootstrap';
import { Role } from '@cmk/auth';

async function main(): Promise<void> {
  const started = Date.now();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const running = await startControlPlane(config);
  logger.info({ url: running.url, mode: config.mode, ms: Date.now() - started }, 'control plane ready');
  if (running.infra.devIssuer) {
    // Embedded mode only: a short-lived operator token so a newcomer can try the API at once.
    const token = await running.infra.devIssuer.issue({
      subject: 'embedded-operator',
      roles: [Role.PlatformOperator, Role.KeyAdmin, Role.SecurityOfficer, Role.Auditor],
      ttlSeconds: 3600,
    });
    const workers = running.infra.embedded?.regions ?? [];
    process.stdout.write(
      `\nOpenKCM CMK is ready at ${running.url} (Swagger UI: ${running.url}/docs)\n` +
        `Operator token (valid 1 hour):\n\n  export CMK_URL=${running.url}\n  export CMK_TOKEN=${token}\n\n` +
        (workers.length
          ? `Regional workers in this process (in-process mesh, local demo key local:key=demo-root):\n` +
            workers.map((w) => `  ${w.region.padEnd(15)} ${w.url}`).join('\n') +
            `\nTry the loop: onboard a tenant, link local:key=demo-root (providerKind local), activate, register a system,\n` +
            `POST /v1/systems/{id}/workload-token, then POST {worker}/v1/data-keys and /v1/unwrap; revoke and watch them deny.\n\n`
          : ''),
    );
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await running.close().catch((e) => logger.error({ err: e }, 'shutdown failed'));
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((e) => {
  logger.fatal({ err: e }, 'control plane failed to start');
  process.exit(1);
});
