import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { typeormDriverFor } from '@cmk/event-store';
import { READ_MODEL_ENTITIES } from './entities';
import { migrateReadModels } from './read-model.ddl';

export interface ReadModelDataSourceOptions {
  schema: string;
  /** Own pool from a URL (PostgreSQL), or the process's shared pool (embedded: one PGlite session for all). */
  url?: string;
  sharedPool?: Pool;
  poolSize?: number;
}

/** A TypeORM DataSource on the read-model schema, initialised and migrated. */
export async function createReadModelDataSource(opts: ReadModelDataSourceOptions): Promise<DataSource> {
  if (!opts.url && !opts.sharedPool) throw new Error('createReadModelDataSource needs url or sharedPool');
  const dataSource = new DataSource({
    type: 'postgres',
    schema: opts.schema,
    entities: READ_MODEL_ENTITIES,
    synchronize: false,
    logging: false,
    ...(opts.sharedPool ? { driver: typeormDriverFor(opts.sharedPool) } : { url: opts.url, poolSize: opts.poolSize ?? 10 }),
  });
  await dataSource.initialize();
  try {
    await migrateReadModels(dataSource, opts.schema);
  } catch (e) {
    await dataSource.destroy();
    throw e;
  }
  return dataSource;
}
