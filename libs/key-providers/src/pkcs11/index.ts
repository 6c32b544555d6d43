// Loading this entry point loads the pkcs11js native addon; the port (`@cmk/key-providers`) does not.
export * from './pkcs11-key-provider.adapter';
export * from './pkcs11-key-provider.config';
export * from './pkcs11-uri';
export * from './pkcs11-ed25519-signer';
