export * from './byok-wrap';
