import { credentials } from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import type { CallOptions } from 'google-gax';
import type { GcpKmsDouble } from './gcp-kms-double';

/**
 * The plain `@google-cloud/kms` client pointed at the double, as a customer's own tooling would use it (the
 * "console" that creates and disables keys, and the raw baseline of the benchmark). Plain-text gRPC on loopback;
 * the bearer token goes with each call, and the library's own retries are off.
 */
export function doubleClient(double: GcpKmsDouble, bearerToken: string): { client: KeyManagementServiceClient; options: CallOptions } {
  const client = new KeyManagementServiceClient({
    apiEndpoint: double.host,
    port: double.port,
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
  return { client, options: { timeout: 10_000, retry: { retryCodes: [] }, otherArgs: { headers: { authorization: `Bearer ${bearerToken}` } } } };
}
