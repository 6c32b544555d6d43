import { readFile } from 'node:fs/promises';
import { DatadogLogsSink } from './datadog-logs.sink';
import { defaultSecretResolver, type ResolveSecret } from './secret-ref';
import type { SiemSink } from './siem-sink.port';
import type { SinkConfig } from './sink-config';
import { silentSinkLogger, type SinkLogger } from './sink.logger';
import type { AuditRecordSource, DeadLetterStore, SinkCheckpointStore } from './sink-pipeline.port';
import { SinkRunner } from './sink-runner';
import { SplunkHecSink } from './splunk-hec.sink';
import { SyslogSink, type SyslogTlsOptions } from './syslog.sink';

export interface SinkFactoryDeps {
  /** Version written into CEF headers. */
  productVersion: string;
  resolveSecret?: ResolveSecret;
  logger?: SinkLogger;
  hostname?: string;
}

export function createSiemSink(config: SinkConfig, deps: SinkFactoryDeps): SiemSink {
  const resolveSecret = deps.resolveSecret ?? defaultSecretResolver();
  const logger = deps.logger ?? silentSinkLogger;
  switch (config.type) {
    case 'splunk-hec':
      return new SplunkHecSink({ ...config, host: deps.hostname, resolveSecret });
    case 'datadog':
      return new DatadogLogsSink({ ...config, hostname: deps.hostname, resolveSecret });
    case 'syslog': {
      const files = config.tls;
      return new SyslogSink({
        name: config.name,
        host: config.host,
        port: config.port,
        confirm: config.confirm,
        appName: config.appName,
        facility: config.facility,
        hostname: deps.hostname,
        productVersion: deps.productVersion,
        logger,
        // Read on every connection: a renewed client key or CA bundle is used without a restart.
        tls: files ? () => loadTls(files) : undefined,
      });
    }
  }
}

async function loadTls(files: NonNullable<Extract<SinkConfig, { type: 'syslog' }>['tls']>): Promise<SyslogTlsOptions> {
  const read = (path?: string) => (path ? readFile(path) : Promise.resolve(undefined));
  const [ca, cert, key] = await Promise.all([read(files.caFile), read(files.certFile), read(files.keyFile)]);
  return { ca, cert, key, servername: files.servername };
}

export interface SinkRunnerPortsWithoutSink {
  source: AuditRecordSource;
  checkpoints: SinkCheckpointStore;
  deadLetters: DeadLetterStore;
}

/** One independent runner per configured sink (not started). */
export function createSinkRunners(configs: SinkConfig[], ports: SinkRunnerPortsWithoutSink, deps: SinkFactoryDeps): SinkRunner[] {
  return configs.map(
    (config) =>
      new SinkRunner({ ...ports, sink: createSiemSink(config, deps) }, { ...config.runner, logger: deps.logger }),
  );
}
