import { DatadogLogsSink } from './datadog-logs.sink';
import { parseSinkConfigs, sinkConfigsFromEnv } from './sink-config';
import { SinkConfigError } from './sink.errors';
import { createSinkRunners } from './sink-factory';
import { InMemoryAuditSource, InMemoryCheckpointStore, InMemoryDeadLetterStore } from './in-memory-stores';
import { SplunkHecSink } from './splunk-hec.sink';
import { SyslogSink } from './syslog.sink';

const splunk = { name: 'splunk', type: 'splunk-hec', url: 'https://splunk.example:8088', token: 'env:HEC_TOKEN', index: 'cmk' };
const datadog = { name: 'dd', type: 'datadog', url: 'https://http-intake.logs.datadoghq.eu', apiKey: 'file:/run/secrets/dd', tags: ['env:prod'] };
const syslog = { name: 'soc', type: 'syslog', host: 'siem.example', port: 6514, tls: { caFile: '/etc/ssl/soc-ca.pem' } };

function problem(value: unknown): string {
  try {
    parseSinkConfigs(value);
  } catch (e) {
    expect(e).toBeInstanceOf(SinkConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a SinkConfigError');
}

describe('sink configuration', () => {
  it('parses the three sink types with defaults', () => {
    const [s, d, y] = parseSinkConfigs([splunk, datadog, syslog]);
    expect(s).toMatchObject({ type: 'splunk-hec', name: 'splunk', url: 'https://splunk.example:8088/', token: 'env:HEC_TOKEN', index: 'cmk', runner: { batchSize: 500 } });
    expect(d).toMatchObject({ type: 'datadog', gzip: true, tags: ['env:prod'] });
    expect(y).toMatchObject({ type: 'syslog', port: 6514, confirm: 'receiver-close', tls: { caFile: '/etc/ssl/soc-ca.pem' } });
  });

  it('reads CMK_SIEM_SINKS, and no variable means no sinks', () => {
    expect(sinkConfigsFromEnv({})).toEqual([]);
    expect(sinkConfigsFromEnv({ CMK_SIEM_SINKS: JSON.stringify([splunk]) })).toHaveLength(1);
    expect(() => sinkConfigsFromEnv({ CMK_SIEM_SINKS: '[{' })).toThrow('CMK_SIEM_SINKS: must be a JSON array of sink objects');
  });

  it('names the field of every problem', () => {
    expect(problem({})).toBe('CMK_SIEM_SINKS: must be an array of sink objects');
    expect(problem([{ ...splunk, type: 'elk' }])).toBe('CMK_SIEM_SINKS[0].type: must be one of splunk-hec, datadog, syslog');
    expect(problem([splunk, { ...syslog, port: 70000 }])).toBe('CMK_SIEM_SINKS[1].port: must be an integer between 1 and 65535');
    expect(problem([{ ...syslog, port: undefined }])).toBe('CMK_SIEM_SINKS[0].port: is required');
    expect(problem([splunk, { ...splunk }])).toBe('CMK_SIEM_SINKS[1].name: duplicate sink name "splunk"');
    expect(problem([{ ...splunk, name: 'Has Space' }])).toMatch(/^CMK_SIEM_SINKS\[0\]\.name: must be lower-case/);
    expect(problem([{ ...splunk, indx: 'typo' }])).toBe('CMK_SIEM_SINKS[0].indx: is not a known setting');
    expect(problem([{ ...datadog, tags: ['a,b'] }])).toMatch(/^CMK_SIEM_SINKS\[0\]\.tags\[0\]/);
    expect(problem([{ ...syslog, tls: { certFile: '/a' } }])).toBe('CMK_SIEM_SINKS[0].tls.certFile: certFile and keyFile go together');
    expect(problem([{ ...syslog, tls: { caFile: 'relative.pem' } }])).toBe('CMK_SIEM_SINKS[0].tls.caFile: must be an absolute path');
    expect(problem([{ ...splunk, runner: { backoff: { initialMs: 1000, maxMs: 10 } } }])).toBe('CMK_SIEM_SINKS[0].runner.backoff: maxMs must be at least initialMs');
    expect(problem([{ ...splunk, runner: { batchSize: 0 } }])).toBe('CMK_SIEM_SINKS[0].runner.batchSize: must be an integer between 1 and 10000');
  });

  it('takes credentials only as references and never repeats a pasted secret', () => {
    const pasted = problem([{ ...splunk, token: '6f0c1f1e-7a43-4bde-9d2c-3c5f0c0b9a11' }]);
    expect(pasted).toMatch(/^CMK_SIEM_SINKS\[0\]\.token: must be a secret reference/);
    expect(pasted).not.toContain('6f0c1f1e');
    expect(problem([{ ...datadog, apiKey: undefined }])).toBe('CMK_SIEM_SINKS[0].apiKey: is required (env:NAME or file:/absolute/path)');
  });

  it('requires https except to localhost, and refuses credentials or a query in the URL', () => {
    expect(problem([{ ...splunk, url: 'http://splunk.example:8088' }])).toMatch(/url: must be an https URL/);
    expect(parseSinkConfigs([{ ...splunk, url: 'http://127.0.0.1:8088' }])[0]).toMatchObject({ url: 'http://127.0.0.1:8088/' });
    const withToken = problem([{ ...splunk, url: 'https://splunk.example/?token=abc123' }]);
    expect(withToken).toMatch(/url: must not contain credentials/);
    expect(withToken).not.toContain('abc123');
    expect(problem([{ ...splunk, url: 'https://user:pw@splunk.example' }])).not.toContain('pw');
  });

  it('builds one independent runner per sink, of the configured type', () => {
    const configs = parseSinkConfigs([splunk, datadog, syslog]);
    const ports = { source: new InMemoryAuditSource(), checkpoints: new InMemoryCheckpointStore(), deadLetters: new InMemoryDeadLetterStore() };
    const runners = createSinkRunners(configs, ports, { productVersion: '0.1.0' });
    expect(runners.map((r) => r.sinkName)).toEqual(['splunk', 'dd', 'soc']);
    const sinks = runners.map((r) => (r as unknown as { ports: { sink: unknown } }).ports.sink);
    expect(sinks[0]).toBeInstanceOf(SplunkHecSink);
    expect(sinks[1]).toBeInstanceOf(DatadogLogsSink);
    expect(sinks[2]).toBeInstanceOf(SyslogSink);
  });
});
