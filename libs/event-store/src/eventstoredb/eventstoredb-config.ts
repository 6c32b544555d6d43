/**
 * The connection string, validated at start so a bad setting stops the process with a message naming it.
 * Accepted: `esdb://host[:port][,host:port...]?options` (single node or a fixed cluster list) and
 * `esdb+discover://host[:port]?options` (cluster gossip through a DNS name). Credentials go in the user-info part.
 */
export class EventStoreDbConfigError extends Error {
  readonly name = 'EventStoreDbConfigError';
}

export interface EventStoreDbConnection {
  connectionString: string;
  discover: boolean;
  hosts: { host: string; port: number }[];
  tls: boolean;
  hasCredentials: boolean;
}

const BOOLEAN_OPTIONS = new Set(['tls', 'tlsverifycert', 'throwonappendfailure']);
const KNOWN_OPTIONS = new Set([
  'tls',
  'tlsverifycert',
  'tlscafile',
  'connectionname',
  'maxdiscoverattempts',
  'discoveryinterval',
  'gossiptimeout',
  'nodepreference',
  'keepaliveinterval',
  'keepalivetimeout',
  'defaultdeadline',
  'throwonappendfailure',
  'usercertfile',
  'userkeyfile',
]);

export function parseEventStoreDbConnection(value: string | undefined, name = 'ESDB_CONNECTION_STRING'): EventStoreDbConnection {
  if (!value || value.trim() === '') throw new EventStoreDbConfigError(`${name} is required (for example esdb://localhost:2113?tls=false)`);
  const match = /^(esdb|esdb\+discover):\/\/(?:([^@/?]+)@)?([^/?]+)\/?(?:\?(.*))?$/.exec(value.trim());
  if (!match) throw new EventStoreDbConfigError(`${name} must look like esdb://host:port?options or esdb+discover://host:port?options`);
  const [, scheme, userInfo, hostList, query] = match;
  const hosts = hostList.split(',').map((entry) => {
    const hostMatch = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = hostMatch?.[2] ? Number(hostMatch[2]) : 2113;
    if (!hostMatch || port < 1 || port > 65535) throw new EventStoreDbConfigError(`${name}: "${entry}" is not a host[:port]`);
    return { host: hostMatch[1], port };
  });
  if (scheme === 'esdb+discover' && hosts.length !== 1) throw new EventStoreDbConfigError(`${name}: esdb+discover takes exactly one gossip host`);
  const options = new Map<string, string>();
  for (const pair of (query ?? '').split('&').filter(Boolean)) {
    const [rawKey, rawValue = ''] = pair.split('=');
    const key = decodeURIComponent(rawKey).toLowerCase();
    if (!KNOWN_OPTIONS.has(key)) throw new EventStoreDbConfigError(`${name}: unknown option "${rawKey}"`);
    const optionValue = decodeURIComponent(rawValue);
    if (BOOLEAN_OPTIONS.has(key) && !/^(true|false)$/i.test(optionValue)) throw new EventStoreDbConfigError(`${name}: option ${rawKey} must be true or false`);
    options.set(key, optionValue.toLowerCase());
  }
  const tls = options.get('tls') !== 'false';
  const hasCredentials = userInfo !== undefined;
  if (hasCredentials && !/^[^:]+:.+$/.test(decodeURIComponent(userInfo))) throw new EventStoreDbConfigError(`${name}: credentials must be user:password`);
  if (hasCredentials && !tls) throw new EventStoreDbConfigError(`${name}: refusing to send credentials without TLS (tls=false)`);
  if (options.get('throwonappendfailure') === 'false') {
    throw new EventStoreDbConfigError(`${name}: throwOnAppendFailure=false is not supported (conflicts must surface as errors)`);
  }
  return { connectionString: value.trim(), discover: scheme === 'esdb+discover', hosts, tls, hasCredentials };
}
