import { isAbsolute } from 'node:path';
import { DEFAULT_BACKOFF, validateBackoff, type BackoffPolicy } from './backoff';
import { secretRefProblem, type SecretRef } from './secret-ref';
import { SinkConfigError } from './sink.errors';
import type { SyslogConfirm } from './syslog.sink';

/**
 * SIEM sinks as configured, e.g. in `CMK_SIEM_SINKS` (a JSON array). Credentials are references (env:NAME or
 * file:/path), never values. Validation stops at the first problem and names its field:
 *   CMK_SIEM_SINKS[1].port: must be an integer between 1 and 65535
 */
export interface RunnerConfig {
  batchSize: number;
  pollIntervalMs: number;
  backoff: BackoffPolicy;
  failingAfterAttempts: number;
}

interface BaseSinkConfig {
  /** Unique; also the checkpoint and dead-letter key, so renaming a sink restarts its export from the beginning. */
  name: string;
  runner: RunnerConfig;
}

export interface SplunkHecSinkConfig extends BaseSinkConfig {
  type: 'splunk-hec';
  url: string;
  token: SecretRef;
  index?: string;
  source?: string;
  sourcetype?: string;
  maxRequestBytes?: number;
  timeoutMs?: number;
}

export interface DatadogSinkConfig extends BaseSinkConfig {
  type: 'datadog';
  url: string;
  apiKey: SecretRef;
  service?: string;
  tags: string[];
  gzip: boolean;
  timeoutMs?: number;
}

export interface SyslogSinkConfig extends BaseSinkConfig {
  type: 'syslog';
  host: string;
  port: number;
  confirm: SyslogConfirm;
  appName?: string;
  facility?: number;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; servername?: string };
}

export type SinkConfig = SplunkHecSinkConfig | DatadogSinkConfig | SyslogSinkConfig;

export const SINKS_ENV = 'CMK_SIEM_SINKS';

/** Sinks from the environment; none when the variable is unset or empty. */
export function sinkConfigsFromEnv(env: NodeJS.ProcessEnv = process.env): SinkConfig[] {
  const text = env[SINKS_ENV];
  if (!text || !text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SinkConfigError(SINKS_ENV, 'must be a JSON array of sink objects');
  }
  return parseSinkConfigs(value, SINKS_ENV);
}

export function parseSinkConfigs(value: unknown, field = SINKS_ENV): SinkConfig[] {
  if (!Array.isArray(value)) throw new SinkConfigError(field, 'must be an array of sink objects');
  const sinks = value.map((v, i) => parseSinkConfig(v, `${field}[${i}]`));
  const seen = new Set<string>();
  sinks.forEach((s, i) => {
    if (seen.has(s.name)) throw new SinkConfigError(`${field}[${i}].name`, `duplicate sink name "${s.name}"`);
    seen.add(s.name);
  });
  return sinks;
}

export function parseSinkConfig(value: unknown, field: string): SinkConfig {
  const o = new Fields(value, field);
  const name = o.string('name', { required: true, pattern: /^[a-z0-9][a-z0-9_-]{0,62}$/, hint: 'lower-case letters, digits, - and _ (max 63)' })!;
  const type = o.oneOf('type', ['splunk-hec', 'datadog', 'syslog'] as const, true)!;
  const runner = parseRunner(o.value.runner, `${field}.runner`);
  let config: SinkConfig;
  switch (type) {
    case 'splunk-hec':
      config = {
        type, name, runner,
        url: o.url('url'),
        token: o.secret('token'),
        index: o.string('index'),
        source: o.string('source'),
        sourcetype: o.string('sourcetype'),
        maxRequestBytes: o.int('maxRequestBytes', 1024, 1024 ** 3),
        timeoutMs: o.int('timeoutMs', 100, 600_000),
      };
      break;
    case 'datadog':
      config = {
        type, name, runner,
        url: o.url('url'),
        apiKey: o.secret('apiKey'),
        service: o.string('service'),
        tags: o.stringArray('tags', /^[^,\s]+$/, 'tags are key:value without commas or spaces'),
        gzip: o.bool('gzip') ?? true,
        timeoutMs: o.int('timeoutMs', 100, 600_000),
      };
      break;
    case 'syslog':
      config = {
        type, name, runner,
        host: o.string('host', { required: true, pattern: /^[A-Za-z0-9.:_-]+$/, hint: 'a host name or IP address' })!,
        port: o.int('port', 1, 65535, true)!,
        confirm: o.oneOf('confirm', ['receiver-close', 'none'] as const) ?? 'receiver-close',
        appName: o.string('appName', { pattern: /^[\x21-\x7e]{1,48}$/, hint: '1-48 printable ASCII characters' }),
        facility: o.int('facility', 0, 23),
        tls: parseTls(o.value.tls, `${field}.tls`),
      };
      break;
  }
  o.rejectUnknown(COMMON_FIELDS.concat(TYPE_FIELDS[type]));
  return config;
}

const COMMON_FIELDS = ['name', 'type', 'runner'];
const TYPE_FIELDS: Record<SinkConfig['type'], string[]> = {
  'splunk-hec': ['url', 'token', 'index', 'source', 'sourcetype', 'maxRequestBytes', 'timeoutMs'],
  datadog: ['url', 'apiKey', 'service', 'tags', 'gzip', 'timeoutMs'],
  syslog: ['host', 'port', 'confirm', 'appName', 'facility', 'tls'],
};

function parseRunner(value: unknown, field: string): RunnerConfig {
  if (value === undefined) return { batchSize: 500, pollIntervalMs: 1000, backoff: DEFAULT_BACKOFF, failingAfterAttempts: 8 };
  const o = new Fields(value, field);
  const b = o.value.backoff === undefined ? undefined : new Fields(o.value.backoff, `${field}.backoff`);
  const backoff: BackoffPolicy = {
    initialMs: b?.int('initialMs', 0, 3_600_000) ?? DEFAULT_BACKOFF.initialMs,
    maxMs: b?.int('maxMs', 0, 86_400_000) ?? DEFAULT_BACKOFF.maxMs,
    multiplier: b?.number('multiplier') ?? DEFAULT_BACKOFF.multiplier,
    jitter: b?.number('jitter') ?? DEFAULT_BACKOFF.jitter,
  };
  const problem = validateBackoff(backoff);
  if (problem) throw new SinkConfigError(`${field}.backoff`, problem);
  b?.rejectUnknown(['initialMs', 'maxMs', 'multiplier', 'jitter']);
  const runner = {
    batchSize: o.int('batchSize', 1, 10_000) ?? 500,
    pollIntervalMs: o.int('pollIntervalMs', 10, 3_600_000) ?? 1000,
    backoff,
    failingAfterAttempts: o.int('failingAfterAttempts', 1, 1_000_000) ?? 8,
  };
  o.rejectUnknown(['batchSize', 'pollIntervalMs', 'backoff', 'failingAfterAttempts']);
  return runner;
}

function parseTls(value: unknown, field: string): SyslogSinkConfig['tls'] {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  const o = new Fields(value, field);
  const path = { pattern: /^\//, hint: 'an absolute path' };
  const tls = { caFile: o.string('caFile', path), certFile: o.string('certFile', path), keyFile: o.string('keyFile', path), servername: o.string('servername') };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) throw new SinkConfigError(`${field}.certFile`, 'certFile and keyFile go together');
  for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
    if (tls[k] !== undefined && !isAbsolute(tls[k]!)) throw new SinkConfigError(`${field}.${k}`, 'must be an absolute path');
  }
  o.rejectUnknown(['caFile', 'certFile', 'keyFile', 'servername']);
  return tls;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Reads typed fields of one object; every error names the full path of the field. */
class Fields {
  readonly value: Record<string, unknown>;
  constructor(
    value: unknown,
    private readonly field: string,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SinkConfigError(field, 'must be an object');
    this.value = value as Record<string, unknown>;
  }

  private at(key: string): string {
    return `${this.field}.${key}`;
  }

  string(key: string, opts: { required?: boolean; pattern?: RegExp; hint?: string } = {}): string | undefined {
    const v = this.value[key];
    if (v === undefined) {
      if (opts.required) throw new SinkConfigError(this.at(key), 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v === '') throw new SinkConfigError(this.at(key), 'must be a non-empty string');
    if (opts.pattern && !opts.pattern.test(v)) throw new SinkConfigError(this.at(key), `must be ${opts.hint ?? `like ${opts.pattern}`}`);
    return v;
  }

  oneOf<T extends string>(key: string, options: readonly T[], required = false): T | undefined {
    const v = this.string(key, { required });
    if (v !== undefined && !options.includes(v as T)) throw new SinkConfigError(this.at(key), `must be one of ${options.join(', ')}`);
    return v as T | undefined;
  }

  int(key: string, min: number, max: number, required = false): number | undefined {
    const v = this.value[key];
    if (v === undefined) {
      if (required) throw new SinkConfigError(this.at(key), 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new SinkConfigError(this.at(key), `must be an integer between ${min} and ${max}`);
    }
    return v;
  }

  number(key: string): number | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SinkConfigError(this.at(key), 'must be a number');
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new SinkConfigError(this.at(key), 'must be true or false');
    return v;
  }

  stringArray(key: string, item: RegExp, hint: string): string[] {
    const v = this.value[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new SinkConfigError(this.at(key), 'must be an array of strings');
    v.forEach((s, i) => {
      if (typeof s !== 'string' || !item.test(s)) throw new SinkConfigError(`${this.at(key)}[${i}]`, hint);
    });
    return v as string[];
  }

  /** The value is never put in the message: someone may have pasted the token itself. */
  secret(key: string): SecretRef {
    const v = this.value[key];
    if (v === undefined) throw new SinkConfigError(this.at(key), 'is required (env:NAME or file:/absolute/path)');
    const problem = secretRefProblem(v);
    if (problem) throw new SinkConfigError(this.at(key), problem);
    return v as string;
  }

  /**
   * https only, except to this machine (local receivers, tests). No user info, query or fragment: HEC also takes
   * its token in the query string, and a URL ends up in logs.
   */
  url(key: string): string {
    const v = this.string(key, { required: true })!;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new SinkConfigError(this.at(key), 'must be an absolute URL');
    }
    if (u.username || u.password || u.search || u.hash) {
      throw new SinkConfigError(this.at(key), 'must not contain credentials, a query or a fragment (the value is not shown)');
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
      throw new SinkConfigError(this.at(key), 'must be an https URL (plain http only to localhost)');
    }
    return u.toString();
  }

  rejectUnknown(known: string[]): void {
    for (const k of Object.keys(this.value)) {
      if (!known.includes(k)) throw new SinkConfigError(this.at(k), 'is not a known setting');
    }
  }
}
