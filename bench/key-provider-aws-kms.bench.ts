/**
 * Wrap and unwrap through the AWS KMS adapter against local-kms (the AWS KMS emulator, started here through
 * deploy/local/local-kms.sh on a free port), with the raw SDK call as the baseline: the same KMSClient
 * configuration the adapter builds (keep-alive, one attempt), Encrypt with the same encryption context and
 * Decrypt with the KeyId pinned. What the adapter adds is its reference parsing, envelope (version byte and
 * check), retry wrapper and in-flight accounting. Both sides share one emulator process on this machine, so the
 * absolute figures are the emulator's, not AWS's (a real KMS round trip is milliseconds over the network).
 * Needs neither the database nor Kafka:  npm run bench -- key-provider-aws-kms
 */
import { Agent } from 'node:http';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { AwsKmsKeyProvider } from '@cmk/key-providers/aws-kms';
import { localKmsClient, startLocalKms, stopLocalKms } from '@cmk/testing/local-kms';
import { benchKeyProvider } from './key-provider-bench';

const CONCURRENCY = Number(process.env.CMK_BENCH_CONCURRENCY ?? 16);

async function main(): Promise<void> {
  const kms = await startLocalKms();
  const admin = localKmsClient(kms);
  process.env.CMK_BENCH_AWS_ACCESS_KEY_ID = 'AKIABENCHBENCHBENCH1';
  process.env.CMK_BENCH_AWS_SECRET_ACCESS_KEY = 'bench-secret-not-checked-by-local-kms';
  const raw = new KMSClient({
    region: kms.region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: process.env.CMK_BENCH_AWS_ACCESS_KEY_ID, secretAccessKey: process.env.CMK_BENCH_AWS_SECRET_ACCESS_KEY },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 50 }), connectionTimeout: 3000, requestTimeout: 10000, throwOnRequestTimeout: true },
  });
  const provider = new AwsKmsKeyProvider({
    region: kms.region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: 'env:CMK_BENCH_AWS_ACCESS_KEY_ID', secretAccessKey: 'env:CMK_BENCH_AWS_SECRET_ACCESS_KEY' },
  });
  try {
    const ref = (await admin.send(new CreateKeyCommand({ Description: 'cmk bench' }))).KeyMetadata!.Arn!;
    const context = (aad: Buffer) => ({ 'cmk:aad': aad.toString('base64') });
    await benchKeyProvider({
      name: `aws-kms against local-kms (AWS KMS emulator, ${kms.endpoint})`,
      provider,
      ref,
      concurrency: CONCURRENCY,
      raw: {
        wrap: async (plaintext, aad) =>
          (await raw.send(new EncryptCommand({ KeyId: ref, Plaintext: plaintext, EncryptionContext: context(aad), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }))).CiphertextBlob!,
        unwrap: async (wrapped, aad) =>
          (await raw.send(new DecryptCommand({ KeyId: ref, CiphertextBlob: wrapped as Uint8Array, EncryptionContext: context(aad), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })))
            .Plaintext!,
      },
    });
  } finally {
    await provider.close();
    raw.destroy();
    admin.destroy();
    await stopLocalKms(kms);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
