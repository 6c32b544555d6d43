export * from './evidence-bundle';
export * from './evidence-selection';
export * from './evidence-proofs';
export * from './evidence-facts';
export * from './evidence-report.html';
export * from './evidence-readme';
export * from './evidence-bundle.builder';
export * from './bundle-verifier';
