export * from './azure-keyvault-key-provider.adapter';
export * from './azure-keyvault-key-provider.config';
export * from './azure-keyvault-key-ref';
export { ClientSecretTokenCredential } from './client-secret.credential';
