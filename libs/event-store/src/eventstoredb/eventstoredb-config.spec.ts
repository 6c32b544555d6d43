import { EventStoreDbConfigError, parseEventStoreDbConnection } from './eventstoredb-config';

describe('parseEventStoreDbConnection', () => {
  it('accepts a single node, a fixed cluster and gossip discovery', () => {
    expect(parseEventStoreDbConnection('esdb://localhost:2113?tls=false')).toMatchObject({ discover: false, tls: false, hosts: [{ host: 'localhost', port: 2113 }] });
    expect(parseEventStoreDbConnection('esdb://admin:changeit@node1:2113,node2:2113,node3?tlsVerifyCert=true&nodePreference=leader')).toMatchObject({
      tls: true,
      hasCredentials: true,
      hosts: [
        { host: 'node1', port: 2113 },
        { host: 'node2', port: 2113 },
        { host: 'node3', port: 2113 },
      ],
    });
    expect(parseEventStoreDbConnection('esdb+discover://cluster.example.com:2113')).toMatchObject({ discover: true, tls: true });
  });

  it.each([
    [undefined, 'is required'],
    ['', 'is required'],
    ['http://localhost:2113', 'must look like esdb://'],
    ['esdb://localhost:99999', 'is not a host[:port]'],
    ['esdb://localhost:2113?tls=maybe', 'tls must be true or false'],
    ['esdb://localhost:2113?colour=blue', 'unknown option "colour"'],
    ['esdb://admin:changeit@localhost:2113?tls=false', 'refusing to send credentials without TLS'],
    ['esdb://admin@localhost:2113', 'credentials must be user:password'],
    ['esdb+discover://a:2113,b:2113', 'exactly one gossip host'],
    ['esdb://localhost:2113?throwOnAppendFailure=false', 'not supported'],
  ])('refuses %j: %s', (value, message) => {
    expect(() => parseEventStoreDbConnection(value)).toThrow(EventStoreDbConfigError);
    expect(() => parseEventStoreDbConnection(value)).toThrow(message);
  });

  it('never echoes the password in its errors', () => {
    expect(() => parseEventStoreDbConnection('esdb://admin:s3cret@localhost:2113?tls=false')).toThrow(/^(?!.*s3cret)/s);
  });
});
