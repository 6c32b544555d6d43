export * from './entities';
export * from './read-model.ddl';
export * from './data-source';
export * from './projection';
export * from './projections';
export * from './projection-runner';
export * from './read-model.queries';
