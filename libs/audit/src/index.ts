export * from './canonical-json';
export * from './hash-chain';
export * from './merkle';
export * from './checkpoint';
export * from './ed25519';
export * from './verifier';
