export * from './store-log-verifier';
export * from './postgres-store-reader';
export * from './verify-store';
