/**
 * Wrap / unwrap through the Azure Key Vault adapter against the Key Vault keys REST API DOUBLE
 * (test/doubles/azure-keyvault: HTTPS on 127.0.0.1, in this process), next to the raw SDK call on the same key
 * and double: CryptographyClient.encrypt / decrypt with A256GCM and the aad, the calls the adapter makes. What the
 * adapter adds is its own work (reference parsing, the cached key-state check, the ciphertext format, retries
 * bookkeeping); the double's cost is in both sides alike. It shares this process's event loop with the clients,
 * so absolute figures say little about Azure; the overhead ratio is the figure.
 *   npm run bench -- key-provider-azure-keyvault   (needs test/doubles compiled into dist)
 */
import { KeyClient } from '@azure/keyvault-keys';
import { randomBytes } from 'node:crypto';
import { AzureKeyVaultKeyProvider, ClientSecretTokenCredential } from '@cmk/key-providers/azure-keyvault';
import { DefaultCredentialResolver } from '@cmk/key-providers/credentials/credential-source';
import { AzureKeyVaultDouble } from '../test/doubles/azure-keyvault';
import { benchKeyProvider } from './key-provider-bench';

async function main(): Promise<void> {
  const secret = randomBytes(24).toString('base64url');
  const double = await AzureKeyVaultDouble.start({ clients: [{ clientId: 'cmk-bench', clientSecret: secret, role: 'all' }] });
  const env = { CMK_BENCH_AZURE_TENANT: double.tenantId, CMK_BENCH_AZURE_CLIENT: 'cmk-bench', CMK_BENCH_AZURE_SECRET: secret };
  const refs = { tenantId: 'env:CMK_BENCH_AZURE_TENANT', clientId: 'env:CMK_BENCH_AZURE_CLIENT', clientSecret: 'env:CMK_BENCH_AZURE_SECRET' };
  const tokenEndpoint = `${double.vaultUrl}/{tenant}/oauth2/v2.0/token`;
  const resolver = new DefaultCredentialResolver({ ...process.env, ...env });
  const credential = new ClientSecretTokenCredential({ ...refs, tokenEndpoint, resolver, caPem: double.caPem, timeoutMs: 10_000 });
  const client = new KeyClient(double.vaultUrl, credential, {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: double.caPem },
    serviceVersion: '7.5',
    retryOptions: { maxRetries: 0 },
  });
  const key = await client.createOctKey('bench-l1', { keySize: 256, hsm: true });
  const crypto = client.getCryptographyClient('bench-l1', { keyVersion: key.properties.version });
  const provider = new AzureKeyVaultKeyProvider({
    vaultUrls: [double.vaultUrl],
    ...refs,
    tokenEndpoint,
    caPem: double.caPem,
    disableChallengeResourceVerification: true,
    credentials: resolver,
  });
  try {
    await benchKeyProvider({
      name: 'azure-keyvault (Key Vault REST API DOUBLE over HTTPS, in process)',
      provider,
      ref: `${double.vaultUrl}/keys/bench-l1`,
      raw: {
        wrap: (plaintext, aad) => crypto.encrypt({ algorithm: 'A256GCM', plaintext, additionalAuthenticatedData: aad }),
        unwrap: (wrapped, aad) => {
          const w = wrapped as { result: Uint8Array; iv: Uint8Array; authenticationTag: Uint8Array };
          return crypto.decrypt({ algorithm: 'A256GCM', ciphertext: w.result, iv: w.iv, authenticationTag: w.authenticationTag, additionalAuthenticatedData: aad });
        },
      },
    });
  } finally {
    await provider.close();
    await double.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
