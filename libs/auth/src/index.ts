export * from './roles';
export * from './tenant-scope';
export * from './jwt-verifier';
export * from './dev-issuer';
