// Loading this entry point loads @google-cloud/kms (and gRPC); the port (`@cmk/key-providers`) does not.
export * from './gcp-kms-key-provider.adapter';
export * from './gcp-kms-key-provider.config';
export * from './gcp-kms-key-ref';
