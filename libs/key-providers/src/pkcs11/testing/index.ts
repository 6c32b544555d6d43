export * from './pkcs11-test-keys';
