export * from './gcp-kms-double';
export { CLOUD_KMS_AUDIENCE, DoubleAuth } from './gcp-kms-double.auth';
export { INVALID_CIPHERTEXT } from './gcp-kms-double.store';
export { doubleClient } from './gcp-kms-double.client';
