export * from './postgres';
export * from './softhsm';
