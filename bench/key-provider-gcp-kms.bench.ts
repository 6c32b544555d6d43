/**
 * Wrap / unwrap through the Google Cloud KMS adapter against the Cloud KMS gRPC DOUBLE (test/doubles/gcp-kms:
 * KeyManagementService from @google-cloud/kms's own protos, plain-text gRPC on 127.0.0.1, in this process), next
 * to the raw client call on the same key and double: KeyManagementServiceClient.encrypt / decrypt with the aad,
 * the calls the adapter makes. Both sides send the same kind of bearer token (an access token), so the double's
 * cost is alike; what the adapter adds is its own work: reference parsing, the CRC32C fields it sends and
 * verifies, the ciphertext version byte, retry bookkeeping. The double shares this process's event loop, so
 * absolute figures say little about Cloud KMS; the overhead ratio is the figure.
 *   npm run bench -- key-provider-gcp-kms   (needs test/doubles compiled into dist)
 */
import { GcpKmsKeyProvider } from '@cmk/key-providers/gcp-kms';
import { doubleClient, GcpKmsDouble } from '../test/doubles/gcp-kms';
import { benchKeyProvider } from './key-provider-bench';

async function main(): Promise<void> {
  const double = await GcpKmsDouble.start();
  const project = 'cmk-bench-proj';
  const token = double.auth.issueAccessToken('cmk-bench', [project]);
  const { client, options } = doubleClient(double, token);
  await client.createKeyRing({ parent: `projects/${project}/locations/europe-west3`, keyRingId: 'bench' }, options);
  const [key] = await client.createCryptoKey(
    { parent: `projects/${project}/locations/europe-west3/keyRings/bench`, cryptoKeyId: 'bench-l1', cryptoKey: { purpose: 'ENCRYPT_DECRYPT' } },
    options,
  );
  const provider = new GcpKmsKeyProvider({
    project,
    location: 'europe-west3',
    apiEndpoint: double.host,
    port: double.port,
    insecure: true,
    credentials: { accessToken: 'env:CMK_BENCH_GCP_ACCESS_TOKEN' },
    credentialResolver: { resolve: async (ref) => (ref === 'env:CMK_BENCH_GCP_ACCESS_TOKEN' ? token : Promise.reject(new Error(`unknown ${ref}`))) },
  });
  try {
    await benchKeyProvider({
      name: 'gcp-kms (Cloud KMS gRPC DOUBLE, plain-text gRPC, in process)',
      provider,
      ref: key.name!,
      raw: {
        wrap: async (plaintext, aad) => (await client.encrypt({ name: key.name, plaintext, additionalAuthenticatedData: aad }, options))[0].ciphertext,
        unwrap: async (wrapped, aad) => (await client.decrypt({ name: key.name, ciphertext: wrapped as Uint8Array, additionalAuthenticatedData: aad }, options))[0].plaintext,
      },
    });
  } finally {
    await provider.close();
    await client.close();
    await double.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
