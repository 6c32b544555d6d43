export * from './policy-document';
export * from './key-strength.rule';
export * from './provider-placement.rule';
export * from './compliance';
export * from './rotation.rule';
export * from './policy-document.schema';
export * from './guardrails';
export * from './approvals.rule';
