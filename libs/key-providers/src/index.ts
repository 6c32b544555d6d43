export * from './key-provider.port';
export * from './key-provider.errors';
export * from './key-provider.logger';
export * from './credentials/credential-source';
export * from './proof-of-possession';
export * from './byok';
