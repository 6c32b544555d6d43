export * from './policy-document';
export * from './key-strength.rule';
