import type { ProviderKind } from '@cmk/domain';
import { InvalidProviderConfigError, KeyProvider } from '@cmk/key-providers';
import type { Pkcs11KeyProviderConfig } from '@cmk/key-providers/pkcs11';
import type { AwsKmsCredentialRefs, AwsKmsKeyProviderConfig } from '@cmk/key-providers/aws-kms';
import type { AzureKeyVaultKeyProviderConfig } from '@cmk/key-providers/azure-keyvault';
import type { GcpKmsKeyProviderConfig } from '@cmk/key-providers/gcp-kms';

type Settings = Record<string, unknown>;

/**
 * Builds one adapter from its settings, with a link's credential reference in place of the configured one.
 * Adapters are imported here, on first use, so a control plane that only talks to an HSM does not load (nor pay
 * start-up time for) three cloud SDKs.
 */
export async function buildKeyProvider(kind: ProviderKind, settings: Settings, credentialRef?: string): Promise<KeyProvider> {
  switch (kind) {
    case 'pkcs11': {
      const { Pkcs11KeyProvider } = await import('@cmk/key-providers/pkcs11');
      // The adapter validates its settings here and opens its sessions on first use: an HSM that is down at
      // start-up makes calls fail as unavailable, not the control plane refuse to start.
      return new Pkcs11KeyProvider({ ...(settings as unknown as Pkcs11KeyProviderConfig), ...(credentialRef ? { pin: credentialRef } : {}) });
    }
    case 'aws-kms': {
      const { AwsKmsKeyProvider } = await import('@cmk/key-providers/aws-kms');
      const config = settings as unknown as AwsKmsKeyProviderConfig;
      return new AwsKmsKeyProvider({ ...config, ...(credentialRef ? { credentials: awsCredentialsOf(credentialRef) } : {}) });
    }
    case 'azure-keyvault': {
      const { AzureKeyVaultKeyProvider } = await import('@cmk/key-providers/azure-keyvault');
      // A link's own credential reference names its client secret; tenant and client id stay as configured.
      return new AzureKeyVaultKeyProvider({ ...(settings as unknown as AzureKeyVaultKeyProviderConfig), ...(credentialRef ? { clientSecret: credentialRef } : {}) });
    }
    case 'gcp-kms': {
      const { GcpKmsKeyProvider } = await import('@cmk/key-providers/gcp-kms');
      // A link's own credential reference names a service-account key (JSON) for that link.
      return new GcpKmsKeyProvider({ ...(settings as unknown as GcpKmsKeyProviderConfig), ...(credentialRef ? { credentials: { serviceAccountKey: credentialRef } } : {}) });
    }
    default:
      throw new InvalidProviderConfigError(kind, 'this provider kind cannot be reached from the control plane');
  }
}

/**
 * A link's AWS credentials, from one reference: `env:ACME` names ACME_ACCESS_KEY_ID and ACME_SECRET_ACCESS_KEY;
 * `file:/run/secrets/acme` names the files access_key_id and secret_access_key in that directory (a mounted
 * Kubernetes secret). Temporary (STS) credentials come through the provider settings, not per link.
 */
export function awsCredentialsOf(credentialRef: string): AwsKmsCredentialRefs {
  if (credentialRef.startsWith('env:')) {
    const prefix = credentialRef.slice(4);
    return { accessKeyId: `env:${prefix}_ACCESS_KEY_ID`, secretAccessKey: `env:${prefix}_SECRET_ACCESS_KEY` };
  }
  if (credentialRef.startsWith('file:')) {
    const dir = credentialRef.slice(5).replace(/\/+$/, '');
    return { accessKeyId: `file:${dir}/access_key_id`, secretAccessKey: `file:${dir}/secret_access_key` };
  }
  throw new InvalidProviderConfigError('credentialRef', 'aws-kms links name their credentials with env:PREFIX or file:/directory');
}
