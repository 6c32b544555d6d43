import * as pg from 'pg';

/**
 * A stand-in for the `pg` module to pass as TypeORM's postgres `driver` option, so TypeORM uses an existing
 * pool instead of creating its own. Needed in embedded mode, where the one connection must be shared by the
 * whole process. TypeORM's `new driver.Pool(...)` gets a view of the shared pool whose `end()` only detaches
 * what TypeORM attached (its error listener): the pool belongs to whoever opened it.
 */
export function typeormDriverFor(pool: pg.Pool): { Pool: new (...args: unknown[]) => pg.Pool; Client: typeof pg.Client; defaults: typeof pg.defaults; types: typeof pg.types; native: null } {
  function SharedPool(): pg.Pool {
    return borrowedView(pool);
  }
  return {
    Pool: SharedPool as unknown as new (...args: unknown[]) => pg.Pool,
    Client: pg.Client,
    defaults: pg.defaults,
    types: pg.types,
    // TypeORM switches to `driver.native` when pg-native is installed; never for a shared pool.
    native: null,
  };
}

type Listener = (...args: unknown[]) => void;

function borrowedView(pool: pg.Pool): pg.Pool {
  // pg.Pool is an EventEmitter; its typings only list the pool's own events.
  const emitter = pool as unknown as NodeJS.EventEmitter;
  const attached: [string | symbol, Listener][] = [];
  const view: pg.Pool = new Proxy(pool, {
    get(target, property) {
      if (property === 'end') {
        return (callback?: (error?: Error) => void) => {
          for (const [event, listener] of attached.splice(0)) emitter.removeListener(event, listener);
          if (callback) {
            process.nextTick(callback);
            return undefined;
          }
          return Promise.resolve();
        };
      }
      if (property === 'on' || property === 'addListener') {
        return (event: string | symbol, listener: Listener) => {
          attached.push([event, listener]);
          emitter.on(event, listener);
          return view;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return view;
}
