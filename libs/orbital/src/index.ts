export * from './orbital.messages';
export * from './tenant-view.fold';
