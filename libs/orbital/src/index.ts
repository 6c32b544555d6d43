export * from './orbital.messages';
