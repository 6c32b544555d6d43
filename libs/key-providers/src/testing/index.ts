export * from './key-provider.contract';
