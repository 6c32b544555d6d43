export * from './orbital.messages';
export * from './tenant-view.store';
export * from './access-decision';
export * from './tenant-view.fold';
export * from './tenant-keys';
export * from './decrypt-access';
