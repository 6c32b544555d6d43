// Loading this entry point loads @aws-sdk/client-kms; the port (`@cmk/key-providers`) does not.
export * from './aws-kms-key-provider.adapter';
export * from './aws-kms-key-provider.config';
export * from './aws-kms-key-ref';
